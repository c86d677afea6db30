// Routed mode's daemon side: turns BGPPeers, BGPAdvertisements and the prefixes this node
// holds on its virtual interface into BIRD's configuration, applies it when it changes,
// and reads the sessions back for NodeState. With AgentConfig `routing: External` it does
// nothing: the user's own daemon redistributes the virtual interface.
import type { BGPSessionStatus } from "../api/nodestate.ts";
import { BGP_PASSWORDS_SECRET, type BGPPeerSpec } from "../api/bgppeer.ts";
import type { Labels } from "../api/selector.ts";
import { FAMILY_BITS, formatAddress, parseAddress } from "../ip.ts";
import type { Informer } from "../kube/informer.ts";
import type { Logger } from "../log.ts";
import type { AddressDecision } from "./announcements.ts";
import type {
  BGPAdvertisementObject,
  BGPPeerObject,
  PoolObject,
  SecretObject,
} from "./cluster-view.ts";
import type { BirdDaemon } from "./bird/daemon.ts";
import { peersForNode, type NamedPeer, type RoutedPrefix } from "./bird/policy.ts";
import { renderBirdConfig } from "./bird/render.ts";

export interface RoutingSources {
  peers: Informer<BGPPeerObject>;
  advertisements: Informer<BGPAdvertisementObject>;
  pools: Informer<PoolObject>;
  /** The controller's copy of the BGP passwords, one key per BGPPeer (BGP_PASSWORDS_SECRET). */
  passwords: Informer<SecretObject>;
}

export interface RoutingOutcome {
  /** undefined: fine (or nothing to do); else why the running configuration was kept. */
  problem: string | undefined;
  /** The configuration changed and BIRD took it. */
  applied: boolean;
}

export class Routing {
  readonly #sources: RoutingSources;
  readonly #namespace: string;
  readonly #daemon: () => BirdDaemon;
  readonly #log: Logger;
  #bird: BirdDaemon | undefined;
  #lastConfig = "";
  #stopped = false;

  constructor(options: {
    sources: RoutingSources;
    namespace: string;
    daemon: () => BirdDaemon;
    log: Logger;
  }) {
    this.#sources = options.sources;
    this.#namespace = options.namespace;
    this.#daemon = options.daemon;
    this.#log = options.log;
  }

  /**
   * Renders and applies BIRD's configuration for what this node routes. BIRD starts with
   * the first BGPPeer that selects this node; until then there is nothing for it to do.
   */
  async update(
    node: { name: string; labels: Labels; ipv4?: string; ipv6?: string },
    settings: { virtualInterface: string; routing: "Bird" | "External" },
    routed: readonly AddressDecision[],
  ): Promise<RoutingOutcome> {
    if (this.#stopped) return { problem: undefined, applied: false };
    if (settings.routing === "External") {
      await this.#halt();
      return { problem: undefined, applied: false };
    }
    const peers = peersForNode(this.#namedPeers(), node.labels);
    if (peers.length === 0 && !this.#bird) return { problem: undefined, applied: false };
    const passwords = new Map<string, string>();
    for (const peer of peers) {
      if (!peer.spec.passwordSecretRef) continue;
      const password = this.#password(peer.name);
      if (typeof password !== "string")
        return { problem: `BGPPeer ${peer.name}: ${password.error}`, applied: false };
      passwords.set(peer.name, password);
    }
    const rendered = renderBirdConfig({
      node,
      settings: { virtualInterface: settings.virtualInterface },
      peers,
      advertisements: this.#sources.advertisements.list().map((object) => ({
        name: object.metadata?.name ?? "",
        spec: object.spec ?? {},
      })),
      poolLabels: new Map(
        this.#sources.pools
          .list()
          .map((pool) => [pool.metadata?.name ?? "", pool.metadata?.labels ?? {}]),
      ),
      routes: routedPrefixes(routed),
      passwords,
    });
    if ("error" in rendered) return { problem: rendered.error, applied: false };
    if (rendered.config === this.#lastConfig) return { problem: undefined, applied: false };
    this.#bird ??= this.#daemon();
    const result = await this.#bird.apply(rendered.config);
    if ("error" in result)
      return { problem: `BIRD refused the configuration: ${result.error}`, applied: false };
    this.#lastConfig = rendered.config;
    this.#log.info({ peers: peers.map((p) => p.name) }, "BIRD configuration applied");
    return { problem: undefined, applied: true };
  }

  /** BGP sessions as BIRD reports them; empty while BIRD does not run. */
  async sessions(): Promise<BGPSessionStatus[]> {
    if (!this.#bird) return [];
    try {
      return await this.#bird.sessions();
    } catch {
      return [];
    }
  }

  /** Stops BIRD for good: a reconcile still in flight must not start another. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#halt();
  }

  async #halt(): Promise<void> {
    await this.#bird?.stop();
    this.#bird = undefined;
    this.#lastConfig = "";
  }

  #namedPeers(): NamedPeer[] {
    return this.#sources.peers.list().map((object) => ({
      name: object.metadata?.name ?? "",
      labels: object.metadata?.labels ?? {},
      spec: object.spec ?? ({} as BGPPeerSpec),
    }));
  }

  #password(peer: string): string | { error: string } {
    const copy = this.#sources.passwords.get(BGP_PASSWORDS_SECRET, this.#namespace);
    const value = copy?.data?.[peer];
    if (value === undefined)
      return {
        error:
          `no password for it in Secret ${this.#namespace}/${BGP_PASSWORDS_SECRET} yet: the ` +
          "controller copies it there from passwordSecretRef (its events on the BGPPeer say why not)",
      };
    return Buffer.from(value, "base64").toString("utf8");
  }
}

/** The prefixes a node's virtual interface holds: each address with its prefix, host bits cleared, once. */
export function routedPrefixes(routed: readonly AddressDecision[]): RoutedPrefix[] {
  const seen = new Map<string, RoutedPrefix>();
  for (const decision of routed) {
    const address = parseAddress(decision.address);
    if (!address || !decision.pool) continue;
    const bits = FAMILY_BITS[address.family];
    const length = decision.prefixLength ?? bits;
    const host = (1n << BigInt(bits - length)) - 1n;
    const network = formatAddress({ family: address.family, value: address.value & ~host });
    const prefix = `${network}/${length}`;
    const gracefulShutdown = decision.gracefulShutdown === true;
    const existing = seen.get(prefix);
    // An aggregate is in graceful shutdown only when every address under it is.
    if (existing) {
      if (!gracefulShutdown) delete existing.gracefulShutdown;
    } else {
      const route: RoutedPrefix = { prefix, pool: decision.pool, family: address.family };
      if (gracefulShutdown) route.gracefulShutdown = true;
      seen.set(prefix, route);
    }
  }
  return [...seen.values()].sort((a, b) => (a.prefix < b.prefix ? -1 : 1));
}
