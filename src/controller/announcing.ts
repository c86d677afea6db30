// Who announces each Service's addresses, as the agents' NodeStates say: the source of the
// `herald.dev/announcing-ipv4|ipv6` annotations, which the controller writes so that no
// agent needs the right to patch Services (an agent on a node an attacker holds could
// otherwise rewrite any Service's selector or externalIPs). Pure: the controller feeds it
// NodeStates and asks it for a Service's annotations.
import type { AnnouncedAddress, AnnouncementMode } from "../api/nodestate.ts";
import { ANNOUNCING_ANNOTATION } from "../api/service.ts";
import { familyOf } from "../ip.ts";

interface Holder {
  node: string;
  mode: AnnouncementMode;
  interface: string;
  /** ms since the epoch; 0 when the agent did not say. */
  since: number;
  services: ReadonlySet<string>;
}

export class AnnouncerIndex {
  /** address -> node -> what that node's NodeState says about it */
  private readonly byAddress = new Map<string, Map<string, Holder>>();
  /** node -> the addresses its NodeState last listed */
  private readonly byNode = new Map<string, readonly AnnouncedAddress[]>();

  /**
   * Takes a node's announcements (an empty list when its NodeState is gone) and returns
   * the "namespace/name" of every Service whose annotations may have changed with them.
   */
  set(node: string, announced: readonly AnnouncedAddress[]): Set<string> {
    const previous = this.byNode.get(node) ?? [];
    const affected = new Set<string>();
    const same = (a: AnnouncedAddress, b: AnnouncedAddress | undefined) =>
      b !== undefined &&
      a.mode === b.mode &&
      a.interface === b.interface &&
      a.since === b.since &&
      a.services.join() === b.services.join();
    const now = new Map(announced.map((a) => [a.address, a]));
    for (const entry of previous) {
      if (same(entry, now.get(entry.address))) continue;
      for (const service of entry.services) affected.add(service);
      const holders = this.byAddress.get(entry.address);
      holders?.delete(node);
      if (holders?.size === 0) this.byAddress.delete(entry.address);
    }
    const before = new Map(previous.map((a) => [a.address, a]));
    for (const entry of announced) {
      if (same(entry, before.get(entry.address))) continue;
      for (const service of entry.services) affected.add(service);
      let holders = this.byAddress.get(entry.address);
      if (!holders) this.byAddress.set(entry.address, (holders = new Map()));
      const since = entry.since === undefined ? 0 : Date.parse(entry.since);
      holders.set(node, {
        node,
        mode: entry.mode,
        interface: entry.interface,
        since: Number.isNaN(since) ? 0 : since,
        services: new Set(entry.services),
      });
    }
    if (announced.length === 0) this.byNode.delete(node);
    else this.byNode.set(node, announced);
    return affected;
  }

  /**
   * The annotations a Service holding `addresses` should carry: for each family, "<node>
   * <interface>" of the node that announces it locally — the one that started last, when
   * two list it (a handover in flight, or a node that died holding it and never wrote
   * again) — or "routed" when nodes advertise it by BGP; undefined when nobody does.
   */
  annotations(
    serviceKey: string,
    addresses: readonly string[],
  ): Record<string, string | undefined> {
    const result: Record<string, string | undefined> = {
      [ANNOUNCING_ANNOTATION.IPv4]: undefined,
      [ANNOUNCING_ANNOTATION.IPv6]: undefined,
    };
    for (const address of addresses) {
      const family = familyOf(address);
      const holders = [...(this.byAddress.get(address)?.values() ?? [])].filter((h) =>
        h.services.has(serviceKey),
      );
      const local = holders
        .filter((h) => h.mode === "Local")
        .sort((a, b) => b.since - a.since || (a.node < b.node ? -1 : 1))[0];
      result[ANNOUNCING_ANNOTATION[family]] = local
        ? `${local.node} ${local.interface}`
        : holders.length > 0
          ? "routed"
          : undefined;
    }
    return result;
  }
}

/**
 * The merge-patch annotations that bring `current` to `desired` (null removes one), or
 * undefined when they already agree.
 */
export function annotationChanges(
  current: Readonly<Record<string, string>> | undefined,
  desired: Readonly<Record<string, string | undefined>>,
): Record<string, string | null> | undefined {
  const changes: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(desired)) {
    if ((current?.[key] ?? undefined) === value) continue;
    changes[key] = value ?? null;
  }
  return Object.keys(changes).length > 0 ? changes : undefined;
}
