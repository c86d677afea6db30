// The nftables rules that let TCP connections live through a handover. When the new
// holder of a local address announces it, the neighbours send it everything for that
// address at once, including the rest of the connections the old holder accepted; the
// new holder knows none of them and would answer each with a reset. Routed mode has the
// same moment when a router moves a leaving node's flows to the other next hops. So for
// a moment:
//
// - on the node the traffic now reaches, a TCP segment for the address that is not a SYN
//   and that conntrack sees as the start of a flow (`ct state new`: no connection here
//   owns it) is copied to the old holder's own address on the link (`dup`, which keeps
//   the destination address) and dropped here; the old holder still has the address and
//   the connection.
//   Needs nf_conntrack_tcp_loose=1 (the kernel's default): with 0 such a segment is
//   "invalid" and nothing is passed on.
// - in routed mode a router's ECMP may also move a flow between two nodes that both stay
//   (hash-threshold does when the first or last next hop leaves), and the node it lands
//   on cannot tell whose it is: it copies the segment to every node routing the address,
//   each copy marked with DSCP HANDOFF_DSCP. The node that has the connection carries on;
//   the others drop a marked copy they have no connection for instead of resetting the
//   connection, and never pass it on again. That rule names no address and is always
//   there, so that no node can get a copy before it knows to drop it.
// - on the old holder, which keeps the address while its connections finish, ARP replies
//   and neighbour advertisements from the address are dropped, so that it answers no
//   neighbour for an address now announced by another node.
// - always, on every node: conntrack. The kernel tracks connections in a network namespace
//   only once a rule there needs it; on a node where nothing else does (no kube-proxy), a
//   node's own connections opened before its first handoff would all look new to the rule
//   above, and be passed away from the node that has them. So the tables are there, with
//   a rule that needs conntrack, from the agent's first pass, and stay across restarts.
//
// Rules run in tables of their own (`herald`, one per family), replaced whole in one
// transaction each time they change.

import { familyOf } from "../../ip.ts";

export const HANDOFF_TABLE = "herald";

/** Where a copy goes: a node's own address on the link, and the interface of that link. */
export interface Hop {
  readonly via: string;
  readonly device: string;
}

/**
 * On the new holder: mid-flow segments for `address` go to `to` — the old holder alone
 * (local mode), or every node that may have the connection, marked (routed mode).
 */
export interface FlowForward {
  readonly address: string;
  /** Only segments that come in here (local mode: the address's interface); absent: any. */
  readonly from?: string;
  /** Same family as `address`; more than one: the copies are marked HANDOFF_DSCP. */
  readonly to: readonly Hop[];
}

/** What the herald tables hold besides the rules that are always there. */
export interface HandoffRules {
  readonly forwards: readonly FlowForward[];
  readonly silenced: readonly SilencedAddress[];
}

/** Nothing handed over: the tables with only the rules that are always there. */
export const NO_HANDOFF_RULES: HandoffRules = { forwards: [], silenced: [] };

/** RFC 2474 pool 2 (xxxx11: local use): marks a copy one node passed to the others. */
export const HANDOFF_DSCP = 3;

/** On the old holder: `address` answers no neighbour while its connections finish. */
export interface SilencedAddress {
  readonly address: string;
  readonly interface: string;
}

// Before kube-proxy's DNAT (priority dstnat, -100) and its filter (-110), after conntrack
// (-200): a segment passed on must not be translated here.
const PREROUTING_PRIORITY = -150;

/**
 * One nft script that makes the herald tables say exactly this; undefined: no tables at
 * all (Herald uninstalled). Each table is created if missing, then deleted and made again,
 * all in the one transaction `nft -f` runs, so no packet sees a half-made table.
 */
export function handoffRuleset(rules: HandoffRules | undefined): string {
  const lines: string[] = [];
  for (const family of ["ip", "ip6", "arp"] as const) {
    lines.push(`table ${family} ${HANDOFF_TABLE} {}`, `delete table ${family} ${HANDOFF_TABLE}`);
  }
  if (rules === undefined) return lines.join("\n") + "\n";
  const { forwards, silenced } = rules;
  const v4 = forwards.filter((f) => familyOf(f.address) === "IPv4");
  const v6 = forwards.filter((f) => familyOf(f.address) === "IPv6");
  const silent4 = silenced.filter((s) => familyOf(s.address) === "IPv4");
  const silent6 = silenced.filter((s) => familyOf(s.address) === "IPv6");
  lines.push(...table("ip", [prerouting("ip", v4)]));
  const chains6 = [prerouting("ip6", v6)];
  if (silent6.length > 0)
    chains6.push(
      output(
        silent6.map(
          (s) =>
            `oifname ${quoted(s.interface)} ip6 saddr ${s.address} icmpv6 type nd-neighbor-advert drop`,
        ),
      ),
    );
  lines.push(...table("ip6", chains6));
  if (silent4.length > 0)
    lines.push(
      ...table("arp", [
        output(
          silent4.map(
            (s) =>
              `oifname ${quoted(s.interface)} arp operation reply arp saddr ip ${s.address} drop`,
          ),
        ),
      ]),
    );
  return lines.join("\n") + "\n";
}

function table(family: string, chains: string[][]): string[] {
  return [`table ${family} ${HANDOFF_TABLE} {`, ...chains.flat(), "}"];
}

function prerouting(family: "ip" | "ip6", forwards: readonly FlowForward[]): string[] {
  const orphan = "tcp flags & syn == 0 ct state new";
  return [
    "  chain prerouting {",
    `    type filter hook prerouting priority ${PREROUTING_PRIORITY}; policy accept;`,
    // Needs conntrack (see above), and lets a connection's own segments skip the rest.
    "    ct state established,related accept",
    // A marked copy another node passed here and no connection here owns is dropped, never
    // passed on again nor answered with a reset. Only for this node's own addresses: a
    // forwarded flow conntrack picked up midway is none of Herald's business.
    `    fib daddr type local ${family} dscp ${HANDOFF_DSCP} ${orphan} drop`,
    ...forwards
      .filter((f) => f.to.length > 0)
      .map((f) => {
        const mark = f.to.length > 1 ? `${family} dscp set ${HANDOFF_DSCP} ` : "";
        const copies = f.to.map((hop) => `dup to ${hop.via} device ${quoted(hop.device)}`);
        const from = f.from === undefined ? "" : `iifname ${quoted(f.from)} `;
        return `    ${from}${family} daddr ${f.address} ${orphan} ${mark}${copies.join(" ")} drop`;
      }),
    "  }",
  ];
}

function output(rules: readonly string[]): string[] {
  return [
    "  chain output {",
    "    type filter hook output priority 0; policy accept;",
    ...rules.map((rule) => `    ${rule}`),
    "  }",
  ];
}

// Interface names come from the kernel (at most 15 bytes, no quotes or whitespace allowed
// by the agent's interface regexes' matches); quoting keeps names like "eth0.100" whole.
function quoted(name: string): string {
  if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(name)) throw new Error(`unusable interface name "${name}"`);
  return `"${name}"`;
}
