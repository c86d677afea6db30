// `herald status`'s one-line summary and the counts it is made of: the view carries the
// text in its JSON, and the text output prints it first.

export interface Summary {
  text: string;
  pools: number;
  poolsNotReady: number;
  addresses: { allocated: string; capacity: string };
  services: { served: number; waiting: number; notAnnounced: number };
  nodes: number;
  staleNodes: number;
  nodesWithProblems: number;
  bgpSessions: { total: number; down: number };
  announcementProblems: number;
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;

/**
 * Counts as people read them: exact up to a trillion, then a power of two ("2^64", as pool
 * sizes usually are) or two significant digits ("~1.8e19").
 */
export function compactCount(decimal: string): string {
  if (!DECIMAL.test(decimal)) return "?";
  if (decimal.length <= 12) return decimal;
  const value = BigInt(decimal);
  if ((value & (value - 1n)) === 0n) return `2^${value.toString(2).length - 1}`;
  return `~${decimal[0]}.${decimal[1]}e${decimal.length - 1}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The view's one-line summary, which its JSON carries too (`summary.text`). */
export function summaryText(s: Omit<Summary, "text">): string {
  const pools =
    `${plural(s.pools, "pool")}${s.poolsNotReady > 0 ? ` (${s.poolsNotReady} not ready)` : ""}, ` +
    `${compactCount(s.addresses.allocated)}/${compactCount(s.addresses.capacity)} addresses used`;
  const services = [
    `${plural(s.services.served, "service")} served`,
    `${s.services.waiting} waiting`,
    ...(s.services.notAnnounced > 0 ? [`${s.services.notAnnounced} not announced`] : []),
  ].join(", ");
  const nodes = [
    plural(s.nodes, "node"),
    ...(s.bgpSessions.down > 0
      ? [`${plural(s.bgpSessions.down, "BGP session")} down`]
      : s.bgpSessions.total > 0
        ? [`${plural(s.bgpSessions.total, "BGP session")} up`]
        : []),
    ...(s.staleNodes > 0 ? [`${s.staleNodes} stale`] : []),
    ...(s.nodesWithProblems > s.staleNodes
      ? [`${s.nodesWithProblems - s.staleNodes} with failing conditions`]
      : []),
  ].join(", ");
  const problems =
    s.announcementProblems > 0 ? [`${plural(s.announcementProblems, "announcement problem")}`] : [];
  return [pools, services, nodes, ...problems].join("; ");
}
