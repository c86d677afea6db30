// Counting requests by who made them, from kube-apiserver's audit log (JSON lines; see
// AUDIT_POLICY in control-plane.ts): the benchmarks' measure of what the controller and
// the agents ask of a real API server. Pure: text in, counts out.

export interface AuditCounts {
  /** username -> requests in the window */
  readonly byUser: Readonly<Record<string, number>>;
  /** username -> "verb resource[/subresource]" -> requests */
  readonly byUserAndVerb: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** username -> requests answered 403 */
  readonly forbidden: Readonly<Record<string, number>>;
}

interface AuditEvent {
  auditID?: string;
  stage?: string;
  verb?: string;
  user?: { username?: string };
  objectRef?: { resource?: string; subresource?: string };
  requestReceivedTimestamp?: string;
  responseStatus?: { code?: number };
}

/**
 * Requests received in [from, to) (ms since the epoch; unset, unbounded), each once: a
 * watch is logged when it starts and again when it ends, under the same audit ID.
 * Lines that are not audit events (a partly written last line) are skipped.
 */
export function countAudit(text: string, window: { from?: number; to?: number } = {}): AuditCounts {
  const seen = new Set<string>();
  const byUser: Record<string, number> = {};
  const byUserAndVerb: Record<string, Record<string, number>> = {};
  const forbidden: Record<string, number> = {};
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    let event: AuditEvent;
    try {
      event = JSON.parse(line) as AuditEvent;
    } catch {
      continue;
    }
    if (!event.auditID || seen.has(event.auditID)) continue;
    const at = Date.parse(event.requestReceivedTimestamp ?? "");
    if (Number.isNaN(at)) continue;
    if (
      (window.from !== undefined && at < window.from) ||
      (window.to !== undefined && at >= window.to)
    )
      continue;
    seen.add(event.auditID);
    const user = event.user?.username ?? "";
    const ref = event.objectRef;
    const what = `${event.verb ?? "?"} ${ref?.resource ?? "-"}${ref?.subresource ? `/${ref.subresource}` : ""}`;
    byUser[user] = (byUser[user] ?? 0) + 1;
    const verbs = (byUserAndVerb[user] ??= {});
    verbs[what] = (verbs[what] ?? 0) + 1;
    if (event.responseStatus?.code === 403) forbidden[user] = (forbidden[user] ?? 0) + 1;
  }
  return { byUser, byUserAndVerb, forbidden };
}
