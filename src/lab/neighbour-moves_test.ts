import { test } from "node:test";
import assert from "node:assert/strict";
import { failuresAtMoves, neighbourMoves, parseNeighbourEvents } from "./neighbour-moves.ts";
import type { ProbeSample } from "./probe.ts";

const OUTPUT = `[2026-12-04T21:46:48.496759] 198.18.6.200 dev eth0 lladdr 02:00:00:00:00:03 REACHABLE
[2026-12-04T21:46:48.600000] 198.18.6.200 dev eth0 lladdr 02:00:00:00:00:03 STALE
[2026-12-04T21:46:49.000100] 198.18.6.11 dev eth0 lladdr 02:00:00:00:00:01 REACHABLE
[2026-12-04T21:46:49.100999] 198.18.6.200 dev eth0 lladdr 02:00:00:00:00:01 STALE
[2026-12-04T21:46:49.200000] Deleted 198.18.6.200 dev eth0 lladdr 02:00:00:00:00:01 STALE
[2026-12-04T21:46:49.300000] 198.18.6.200 dev eth0  FAILED
not a line of ip monitor
[2026-12-04T21:46:50.000000] 198.18.6.200 dev eth0 lladdr 02:00:00:00:00:02 REACHABLE
`;

test("reads ip -ts monitor neigh and finds every change of an address's MAC", () => {
  const events = parseNeighbourEvents(OUTPUT);
  assert.equal(events.length, 7);
  assert.equal(events[0]!.at, Date.parse("2026-12-04T21:46:48.496"));
  assert.deepEqual(events[4], {
    at: Date.parse("2026-12-04T21:46:49.200"),
    address: "198.18.6.200",
    lladdr: "02:00:00:00:00:01",
    deleted: true,
  });
  assert.equal(events[5]!.lladdr, undefined);
  // A state change with the same MAC, another address, a deletion, FAILED: no move.
  assert.deepEqual(neighbourMoves(events, "198.18.6.200", "02:00:00:00:00:03"), [
    {
      at: Date.parse("2026-12-04T21:46:49.100"),
      from: "02:00:00:00:00:03",
      to: "02:00:00:00:00:01",
    },
    {
      at: Date.parse("2026-12-04T21:46:50.000"),
      from: "02:00:00:00:00:01",
      to: "02:00:00:00:00:02",
    },
  ]);
  // Unknown at the start: the first MAC seen is the start, not a move.
  assert.equal(neighbourMoves(events, "198.18.6.200", undefined).length, 2);
  assert.equal(neighbourMoves(events, "198.18.6.200", "02:00:00:00:00:01").length, 3);
});

test("only a reset of a request in flight at a move is the move's; everything else is not", () => {
  const move = { at: 10_000, from: "a", to: "b" };
  const samples: ProbeSample[] = [
    { sentAt: 9_999, ms: 2, ok: false, error: "ECONNRESET" }, // in flight, reset at once
    { sentAt: 9_990, ms: 203, ok: false, error: "ECONNRESET" }, // reset after a retransmission
    { sentAt: 9_999, ms: 2000, ok: false, error: "timeout" }, // lost, not reset
    { sentAt: 10_020, ms: 1, ok: false, error: "ECONNRESET" }, // sent after the move
    { sentAt: 9_000, ms: 1, ok: false, error: "ECONNRESET" }, // long before
    { sentAt: 9_999, ms: 2, ok: true },
  ];
  const { atMove, other } = failuresAtMoves(samples, [move]);
  assert.deepEqual(atMove, [samples[0]]);
  assert.deepEqual(other, samples.slice(1, 5));
  assert.equal(failuresAtMoves(samples, []).atMove.length, 0);
});
