// When a router's neighbour entry for an address moved from one MAC to another, read from
// `ip -ts monitor neigh`, and which failed probe requests were in flight at such a move.
// On a LAN the move is the handover itself: a connection opened to the old holder whose
// next packet reaches the new one is reset by it, whatever the announcer does — every
// layer-2 load balancer has that instant. Any other failure is the announcer's fault.
// Pure: lines in, data out.
import type { ProbeSample } from "./probe.ts";

export interface NeighbourEvent {
  /** ms since the epoch */
  at: number;
  address: string;
  lladdr?: string;
  deleted: boolean;
}

export interface NeighbourMove {
  at: number;
  from: string;
  to: string;
}

// [2026-12-04T21:46:48.496759] 10.9.9.5 dev v0 lladdr 02:00:00:00:00:05 REACHABLE
const LINE = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)\]\s+(Deleted\s+)?(\S+)\s+dev\s+\S+(.*)$/;

/** Parses `ip -ts monitor neigh` output; the timestamps are the machine's local time. */
export function parseNeighbourEvents(output: string): NeighbourEvent[] {
  const events: NeighbourEvent[] = [];
  for (const line of output.split("\n")) {
    const match = LINE.exec(line.trim());
    if (!match) continue;
    const [, stamp, deleted, address, rest] = match as unknown as [
      string,
      string,
      string | undefined,
      string,
      string,
    ];
    // Microseconds: Date.parse takes milliseconds, as local time without a zone.
    const at = Date.parse(stamp.replace(/(\.\d{3})\d*$/, "$1"));
    const lladdr = /\blladdr\s+(\S+)/.exec(rest)?.[1]?.toLowerCase();
    events.push({ at, address, deleted: deleted !== undefined, ...(lladdr ? { lladdr } : {}) });
  }
  return events;
}

/** Every change of `address`'s MAC, starting from `initial` (the MAC before the events). */
export function neighbourMoves(
  events: readonly NeighbourEvent[],
  address: string,
  initial: string | undefined,
): NeighbourMove[] {
  const moves: NeighbourMove[] = [];
  let current = initial?.toLowerCase();
  for (const event of events) {
    if (event.address !== address || event.deleted || !event.lladdr) continue;
    if (current !== undefined && event.lladdr !== current)
      moves.push({ at: event.at, from: current, to: event.lladdr });
    current = event.lladdr;
  }
  return moves;
}

/**
 * Splits the failed samples: resets of connections in flight when the neighbour entry
 * moved (sent before the move, reset right after it: the new holder answered the
 * connection's next packet), and the rest. A reset that came only after a
 * retransmission (200 ms or more after the move) means a packet was lost first — the old
 * holder let go before the neighbours had moved — and counts among the rest. `slackMs`
 * absorbs reading the clock in two processes.
 */
export function failuresAtMoves(
  samples: readonly ProbeSample[],
  moves: readonly NeighbourMove[],
  slackMs = 5,
): { atMove: ProbeSample[]; other: ProbeSample[] } {
  const atMove: ProbeSample[] = [];
  const other: ProbeSample[] = [];
  for (const sample of samples) {
    if (sample.ok) continue;
    const ended = sample.sentAt + sample.ms;
    const inFlight = moves.some(
      (move) =>
        sample.sentAt - slackMs <= move.at &&
        move.at <= ended + slackMs &&
        ended - move.at <= RESET_AFTER_MOVE_MS,
    );
    (inFlight && sample.error === "ECONNRESET" ? atMove : other).push(sample);
  }
  return { atMove, other };
}

/** Longer than a request's remaining round trips in the lab, shorter than TCP's minimum RTO. */
const RESET_AFTER_MOVE_MS = 100;
