// `herald status` as text: the view status-view.ts makes, printed as a summary line, a
// table per concern and the sentences under them. Pure: a view and the time in, text out.
import type {
  Announcement,
  ConditionView,
  Counts,
  NodeView,
  PoolView,
  StatusView,
} from "./status-view.ts";
import { compactCount } from "./status-summary.ts";
import { formatTable } from "./table.ts";

// Counts are decimal strings, as the view keeps them (a /64 holds 2^64).
/** "3h2m", the way kubectl writes ages. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
}

function usage(pool: PoolView, family: keyof Counts): string {
  if (!pool.capacity || !pool.allocated) return "?";
  const capacity = pool.capacity[family];
  const allocated = pool.allocated[family];
  if (capacity === "0" && allocated === "0") return "-";
  return `${compactCount(allocated)}/${compactCount(capacity)}`;
}

function available(pool: PoolView): string {
  const a = pool.available;
  const c = pool.capacity;
  if (!a || !c) return "?";
  const present = (["ipv4", "ipv6"] as const).filter((f) => c[f] !== "0" || a[f] !== "0");
  if (present.length === 0) return "0";
  if (present.length === 1) return compactCount(a[present[0]!]);
  return `${compactCount(a.ipv4)} v4, ${compactCount(a.ipv6)} v6`;
}

function ago(timestamp: string | null, now: number): string {
  const at = timestamp === null ? NaN : Date.parse(timestamp);
  return Number.isFinite(at) ? `${formatDuration((now - at) / 1000)} ago` : "-";
}

function condition(c: ConditionView): string {
  return `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ""}${c.message ? `: ${c.message}` : ""}`;
}

export function statusText(view: StatusView, now: number): string {
  const sections: string[] = [`${view.summary.text}\n`];
  for (const warning of view.warnings) sections.push(`warning: ${warning}\n`);

  sections.push(
    "POOLS\n" +
      (view.pools.length === 0
        ? "no AddressPools: no service can get an address\n"
        : formatTable(
            ["NAME", "MODE", "ADDRESSES", "IPV4", "IPV6", "AVAILABLE", "STATUS"],
            view.pools.map((p) => [
              p.name,
              p.mode,
              p.addresses.join(",") || "-",
              usage(p, "ipv4"),
              usage(p, "ipv6"),
              available(p),
              p.problem ?? "Ready",
            ]),
          )),
  );

  if (view.waiting.length > 0) {
    sections.push(
      "WAITING FOR AN ADDRESS\n" +
        formatTable(
          ["SERVICE", "HOLDS", "REASON", "MESSAGE"],
          view.waiting.map((w) => [
            `${w.namespace}/${w.name}`,
            w.addresses.join(",") || "-",
            w.reason || "-",
            w.message || "-",
          ]),
        ),
    );
  }

  if (view.notAnnounced.length > 0) {
    sections.push(
      "NOT ANNOUNCED (no node says it announces these)\n" +
        formatTable(
          ["SERVICE", "ADDRESS", "LAST NotAnnounced EVENT"],
          view.notAnnounced.map((u) => [
            `${u.namespace}/${u.name}`,
            u.address,
            u.event
              ? `${u.event.message}${u.event.time ? ` (${ago(u.event.time, now)})` : ""}`
              : "none",
          ]),
        ),
    );
  }

  if (view.announcements.length > 0) {
    sections.push(
      "ANNOUNCEMENTS\n" +
        formatTable(
          ["ADDRESS", "SERVICES", "MODE", "BY", "PROBLEMS"],
          view.announcements.map((a) => [
            a.address,
            a.services.join(",") || "-",
            a.mode ?? "-",
            announcedBy(a),
            a.problems.join("; ") || "-",
          ]),
        ),
    );
  }

  sections.push("NODES\n" + nodesText(view, now));

  const sessions = view.nodes.flatMap((n) => n.bgpSessions.map((s) => ({ node: n.name, ...s })));
  if (sessions.length > 0) {
    sections.push(
      "BGP SESSIONS\n" +
        formatTable(
          ["NODE", "PEER", "STATE", "UPTIME", "PREFIXES SENT/RECEIVED", "LAST ERROR"],
          sessions.map((s) => [
            s.node,
            s.peer,
            s.state,
            s.uptimeSeconds === null ? "-" : formatDuration(s.uptimeSeconds),
            `${s.prefixesSent ?? "-"}/${s.prefixesReceived ?? "-"}`,
            s.lastError ?? "-",
          ]),
        ),
    );
  }
  return sections.join("\n");
}

function announcedBy(a: Announcement): string {
  if (a.nodes.length === 0) return "-";
  if (a.mode === "Local") return a.nodes.map((n) => `${n.node} ${n.interface}`).join(", ");
  return a.nodes.map((n) => n.node).join(",");
}

function nodesText(view: StatusView, now: number): string {
  if (view.nodes.length === 0) return "no NodeStates: no agent has reported\n";
  const table = formatTable(
    ["NODE", "ANNOUNCED", "BGP UP", "DETECTOR", "UPDATED"],
    view.nodes.map((n) => [
      n.name,
      [
        ...(n.announced.local > 0 ? [`${n.announced.local} local`] : []),
        ...(n.announced.routed > 0 ? [`${n.announced.routed} routed`] : []),
      ].join(", ") || "-",
      n.bgpSessions.length === 0
        ? "-"
        : `${n.bgpSessions.filter((s) => s.state === "Established").length}/${n.bgpSessions.length}`,
      detectorText(n.detector),
      ago(n.updateTime, now),
    ]),
  );
  // Conditions and staleness carry sentences; under the table they do not widen it.
  const problems = view.nodes.flatMap((n) => [
    ...n.stale.map((s) => `  ${n.name} looks stale: ${s}`),
    ...n.conditions.map((c) => `  ${n.name}: ${condition(c)}`),
  ]);
  const missing =
    view.nodesWithoutState.length > 0
      ? [`  no NodeState (no agent has reported) from: ${view.nodesWithoutState.join(", ")}`]
      : [];
  const notes = [...problems, ...missing];
  return table + (notes.length > 0 ? `${notes.join("\n")}\n` : "");
}

function detectorText(detector: NodeView["detector"]): string {
  // An agent without a running detector publishes an empty view.
  if (detector === null || detector.alive.length + detector.dead.length === 0) return "-";
  return [
    `${detector.alive.length} alive`,
    ...(detector.suspects.length > 0 ? [`suspect: ${detector.suspects.join(",")}`] : []),
    ...(detector.dead.length > 0 ? [`dead: ${detector.dead.join(",")}`] : []),
  ].join(", ");
}
