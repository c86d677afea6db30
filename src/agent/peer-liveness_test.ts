import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../clock.ts";
import { MAX_RESTART_GRACE_MS, PeerLiveness, RestartMarks } from "./peer-liveness.ts";

function detector(dead: string[]) {
  return { isAlive: (name: string) => !dead.includes(name), view: () => ({ dead }) };
}

test("a revived node counts only after the hold-off, and a reconcile is asked for then", async () => {
  const clock = new FakeClock(1_000_000);
  let wakes = 0;
  const liveness = new PeerLiveness(
    clock,
    () => 1400,
    () => wakes++,
  );
  liveness.observe(detector([]));
  assert.equal(liveness.alive("node2", detector([]), undefined), true);

  liveness.observe(detector(["node2"]));
  assert.equal(liveness.alive("node2", detector(["node2"]), undefined), false);

  assert.equal(liveness.holdingOff("node2"), false, "dead is not held off");
  liveness.observe(detector([]));
  assert.equal(liveness.alive("node2", detector([]), undefined), false);
  assert.equal(liveness.holdingOff("node2"), true);
  await clock.advance(1399);
  assert.equal(liveness.alive("node2", detector([]), undefined), false);
  assert.equal(liveness.holdingOff("node2"), true);
  assert.equal(wakes, 0);
  await clock.advance(20);
  assert.equal(wakes, 1);
  assert.equal(liveness.holdingOff("node2"), false);
  assert.equal(liveness.alive("node2", detector([]), undefined), true);
  // Nodes the detector never saw dead are not held off.
  assert.equal(liveness.alive("node3", detector([]), undefined), true);
  assert.equal(liveness.holdingOff("node3"), false);
  // Dead again within its hold-off: not held off any more (its claims count again).
  liveness.observe(detector(["node3"]));
  liveness.observe(detector([]));
  assert.equal(liveness.holdingOff("node3"), true);
  liveness.observe(detector(["node3"]));
  assert.equal(liveness.holdingOff("node3"), false);
});

test("a restart mark keeps a silent node alive until it ends, then wakes once", async () => {
  const clock = new FakeClock(1_000_000);
  let wakes = 0;
  const liveness = new PeerLiveness(
    clock,
    () => 1400,
    () => wakes++,
  );
  const until = clock.now() + 10_000;
  for (let i = 0; i < 5; i++)
    assert.equal(liveness.alive("node2", detector(["node2"]), until), true);
  await clock.advance(10_011);
  assert.equal(wakes, 1);
  assert.equal(liveness.alive("node2", detector(["node2"]), undefined), false);
});

test("a restart mark keeps a peer alive at most MAX_RESTART_GRACE_MS from first sight", () => {
  const marks = new RestartMarks();
  const now = Date.parse("2026-12-04T00:00:00Z");
  // The writer's own 10 s: honoured as written.
  const soon = new Date(now + 10_000).toISOString();
  assert.equal(marks.until("node2", soon, now), now + 10_000);
  // Year 9999 (or a clock far ahead): cut to the bound on this node's clock, and not
  // renewed by reading the same mark again later.
  assert.equal(marks.until("node3", "9999-12-31T23:59:59Z", now), now + MAX_RESTART_GRACE_MS);
  assert.equal(
    marks.until("node3", "9999-12-31T23:59:59Z", now + 14_000),
    now + MAX_RESTART_GRACE_MS,
  );
  assert.equal(marks.until("node3", "9999-12-31T23:59:59Z", now + MAX_RESTART_GRACE_MS), undefined);
  // Past, garbage or removed: no grace.
  assert.equal(marks.until("node4", new Date(now - 1).toISOString(), now), undefined);
  assert.equal(marks.until("node4", "soon", now), undefined);
  assert.equal(marks.until("node3", undefined, now), undefined);
});

test("a node back from a covered restart is not held off, even once its mark is cleared", async () => {
  const clock = new FakeClock(1_000_000);
  const liveness = new PeerLiveness(
    clock,
    () => 1400,
    () => {},
  );
  const until = clock.now() + 10_000;
  liveness.observe(detector([]));
  // Its agent stops: silent, but marked.
  liveness.observe(detector(["node2"]));
  assert.equal(liveness.alive("node2", detector(["node2"]), until), true);
  await clock.advance(3000);
  // The new agent clears the mark before this detector has heard it again: still alive.
  assert.equal(liveness.alive("node2", detector(["node2"]), undefined), true);
  // Heard again: alive at once, no hold-off.
  liveness.observe(detector([]));
  assert.equal(liveness.alive("node2", detector([]), undefined), true);
  // A later real failure is one again: dead, and held off when it comes back.
  liveness.observe(detector(["node2"]));
  assert.equal(liveness.alive("node2", detector(["node2"]), undefined), false);
  liveness.observe(detector([]));
  assert.equal(liveness.alive("node2", detector([]), undefined), false);
});

test("a cleared mark does not keep a node alive past the grace it had", async () => {
  const clock = new FakeClock(1_000_000);
  const liveness = new PeerLiveness(
    clock,
    () => 1400,
    () => {},
  );
  liveness.observe(detector(["node2"]));
  assert.equal(liveness.alive("node2", detector(["node2"]), clock.now() + 2000), true);
  await clock.advance(2001);
  assert.equal(liveness.alive("node2", detector(["node2"]), undefined), false);
});
