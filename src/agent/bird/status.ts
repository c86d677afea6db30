// What birdc prints, read into plain data: the BGP sessions of `show protocols all`, and
// whether `configure` took the new configuration.
import { rfc3339 } from "../../api/meta.ts";
import {
  BGP_SESSION_STATES,
  type BGPSessionState,
  type BGPSessionStatus,
} from "../../api/nodestate.ts";

// The row of a protocol: Name Proto Table State Since Info. "Since" has no spaces because
// the rendered configuration sets `timeformat protocol` to an ISO time with its zone.
const PROTOCOL_ROW = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)(?:\s+(.*?))?\s*$/;
const SINCE = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?([+-]\d{2}):?(\d{2})$/;
const ROUTES = /^Routes:\s+(\d+) imported, (?:(\d+) filtered, )?(\d+) exported/;

interface ProtocolBlock {
  name: string;
  proto: string;
  since: string;
  info: string;
  description?: string;
  bgpState?: string;
  lastError?: string;
  exported: number;
}

/** "2026-11-21T13:20:28+0000" → "2026-11-21T13:20:28Z"; undefined for other formats. */
export function sinceToISO(text: string): string | undefined {
  const match = SINCE.exec(text);
  if (!match) return undefined;
  const [, date, time, zoneHours, zoneMinutes] = match;
  const parsed = new Date(`${date}T${time}${zoneHours}:${zoneMinutes}`);
  if (Number.isNaN(parsed.getTime())) return undefined;
  return rfc3339(parsed);
}

/**
 * BIRD's word for a session's state, as an RFC 4271 state. BIRD adds "Down" (protocol
 * disabled or not started), "Close" (being torn down) and "Passive" (waiting for the peer
 * to connect); the first two are Idle in RFC terms, Passive is Active without connecting.
 */
export function sessionState(bird: string | undefined): BGPSessionState {
  const known = BGP_SESSION_STATES.find((s) => s === bird);
  if (known) return known;
  return bird === "Passive" ? "Active" : "Idle";
}

function protocolBlocks(output: string): ProtocolBlock[] {
  const blocks: ProtocolBlock[] = [];
  let current: ProtocolBlock | undefined;
  for (const line of output.split("\n")) {
    if (line.trim() === "") continue;
    if (!/^\s/.test(line)) {
      current = undefined;
      const row = PROTOCOL_ROW.exec(line);
      // The banner ("BIRD 2.0.12 ready.") and the column header are not protocols.
      if (!row || /^BIRD .* ready\.$/.test(line) || (row[1] === "Name" && row[2] === "Proto")) {
        continue;
      }
      current = {
        name: row[1]!,
        proto: row[2]!,
        since: row[5]!,
        info: row[6] ?? "",
        exported: 0,
      };
      blocks.push(current);
      continue;
    }
    if (!current) continue;
    const text = line.trim();
    const description = /^Description:\s+(.*)$/.exec(text);
    if (description) current.description = description[1];
    const state = /^BGP state:\s+(\S+)/.exec(text);
    if (state) current.bgpState = state[1];
    const lastError = /^Last error:\s+(.*)$/.exec(text);
    if (lastError) current.lastError = lastError[1]!.slice(0, 1024);
    // One Routes line per channel (ipv4, ipv6); a session's count is their sum.
    const routes = ROUTES.exec(text);
    if (routes) current.exported += Number(routes[3]);
  }
  return blocks;
}

/**
 * The BGP sessions in `birdc show protocols all`, named after their BGPPeer (the
 * protocol's description, which the rendered configuration sets to the BGPPeer's name),
 * sorted by peer.
 */
export function parseBgpSessions(output: string): BGPSessionStatus[] {
  return protocolBlocks(output)
    .filter((b) => b.proto === "BGP")
    .map((block) => {
      const session: BGPSessionStatus = {
        peer: block.description ?? block.name,
        state: sessionState(block.bgpState ?? block.info.split(/\s+/)[0]),
        prefixesSent: block.exported,
      };
      const since = sinceToISO(block.since);
      if (since !== undefined) session.since = since;
      if (block.lastError !== undefined) session.lastError = block.lastError;
      return session;
    })
    .sort((a, b) => (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0));
}

// BIRD's replies to `configure` that mean the new configuration is (or will be) in force.
const CONFIGURE_ACCEPTED = [
  /^Reconfigured$/,
  /^Reconfiguration in progress$/,
  /^Reconfiguration already in progress, queueing new config$/,
  /^Nothing to do$/,
];

/** Reads the reply to `birdc configure`; an error carries what BIRD said. */
export function parseConfigureReply(output: string): { ok: true } | { error: string } {
  const lines = output
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/^BIRD .* ready\.$/.test(l));
  if (lines.some((line) => CONFIGURE_ACCEPTED.some((re) => re.test(line)))) return { ok: true };
  const said = lines.filter((l) => !l.startsWith("Reading configuration from"));
  return { error: said.join("; ") || "BIRD gave no reply to configure" };
}
