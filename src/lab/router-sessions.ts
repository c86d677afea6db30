// What the router's BGP daemons say about their sessions, read into one shape: the
// state of the session with each neighbour, "Established" when it is up. Pure parsers
// of each daemon's own output; router.ts runs the commands.
import { normalizePrefix } from "./kernel-routes.ts";

/** protocol name → BGP state, from `birdc show protocols` (timeformat without spaces). */
export function birdProtocolStates(text: string): Map<string, string> {
  const states = new Map<string, string>();
  for (const line of text.split("\n")) {
    const columns = line.trim().split(/\s+/);
    // name proto table state since info…
    if (columns.length < 5 || columns[1] !== "BGP") continue;
    states.set(columns[0]!, columns[5] ?? columns[3]!);
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

/** neighbour → state, from `gobgp neighbor -j` (numbers, or names in some versions). */
export function gobgpNeighborStates(json: string): Map<string, string> {
  const states = new Map<string, string>();
  const neighbors = JSON.parse(json || "[]") as {
    conf?: { neighbor_address?: string };
    state?: { neighbor_address?: string; session_state?: number | string };
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
    states.set(normalizeAddress(address), state);
  }
  return states;
}

/** neighbour → state, from vtysh's `show bgp neighbors json`. */
export function frrNeighborStates(json: string): Map<string, string> {
  const states = new Map<string, string>();
  const neighbors = JSON.parse(json || "{}") as Record<string, { bgpState?: string }>;
  for (const [address, neighbor] of Object.entries(neighbors))
    if (neighbor.bgpState) states.set(normalizeAddress(address), neighbor.bgpState);
  return states;
}

export function normalizeAddress(address: string): string {
  return normalizePrefix(address).split("/")[0]!;
}
