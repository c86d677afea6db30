// What the router's BGP daemons say about their sessions, read into one shape: the
// state of the session with each neighbour, "Established" when it is up, and when it
// last changed. Pure parsers of each daemon's own output; router.ts runs the commands.
import { normalizePrefix } from "./kernel-routes.ts";

export interface SessionReading {
  readonly state: string;
  /**
   * The daemon's own mark of when the session last came up or went down: opaque, but it
   * changes whenever the session does, so equal marks mean it did not flap meanwhile.
   */
  readonly since: string;
}

/** protocol name → session, from `birdc show protocols` (timeformat without spaces). */
export function birdProtocolStates(text: string): Map<string, SessionReading> {
  const states = new Map<string, SessionReading>();
  for (const line of text.split("\n")) {
    const columns = line.trim().split(/\s+/);
    // name proto table state since info…
    if (columns.length < 5 || columns[1] !== "BGP") continue;
    states.set(columns[0]!, { state: columns[5] ?? columns[3]!, since: columns[4]! });
  }
  return states;
}

const GOBGP_STATES: Record<number, string> = {
  0: "Unknown",
  1: "Idle",
  2: "Connect",
  3: "Active",
  4: "OpenSent",
  5: "OpenConfirm",
  6: "Established",
};

/** neighbour → session, from `gobgp neighbor -j` (numbers, or names in some versions). */
export function gobgpNeighborStates(json: string): Map<string, SessionReading> {
  const states = new Map<string, SessionReading>();
  const neighbors = JSON.parse(json || "[]") as {
    conf?: { neighbor_address?: string };
    state?: { neighbor_address?: string; session_state?: number | string };
    timers?: { state?: { uptime?: { seconds?: number }; downtime?: { seconds?: number } } };
  }[];
  for (const neighbor of neighbors ?? []) {
    const address = neighbor.state?.neighbor_address ?? neighbor.conf?.neighbor_address;
    if (!address) continue;
    const raw = neighbor.state?.session_state ?? 0;
    const state =
      typeof raw === "number"
        ? (GOBGP_STATES[raw] ?? String(raw))
        : (Object.values(GOBGP_STATES).find((name) => name.toUpperCase() === raw.toUpperCase()) ??
          raw);
    const timers = neighbor.timers?.state;
    const since = `${timers?.uptime?.seconds ?? ""}/${timers?.downtime?.seconds ?? ""}`;
    states.set(normalizeAddress(address), { state, since });
  }
  return states;
}

/** neighbour → session, from vtysh's `show bgp neighbors json`. */
export function frrNeighborStates(json: string): Map<string, SessionReading> {
  const states = new Map<string, SessionReading>();
  const neighbors = JSON.parse(json || "{}") as Record<
    string,
    { bgpState?: string; connectionsEstablished?: number; connectionsDropped?: number }
  >;
  for (const [address, neighbor] of Object.entries(neighbors))
    if (neighbor.bgpState)
      states.set(normalizeAddress(address), {
        state: neighbor.bgpState,
        // Counters, not a time: FRR's epoch of the last establishment is now minus the
        // uptime, and moves by a second between two readings of one session.
        since: `${neighbor.connectionsEstablished ?? 0}/${neighbor.connectionsDropped ?? 0}`,
      });
  return states;
}

export function normalizeAddress(address: string): string {
  return normalizePrefix(address).split("/")[0]!;
}
