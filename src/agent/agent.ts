// The node agent (DESIGN §2, §5): decides which local addresses this node announces and
// makes the kernel hold exactly those.
//
// Informers keep Services, EndpointSlices, Nodes, AddressPools, AgentConfig and the other
// agents' NodeStates; the failure detector says who is alive. On any change the agent
// reconciles: it reads the kernel, runs the announcement rules (announcements.ts) on that
// view, and adds or removes only the addresses it owns. A takeover is followed by
// gratuitous ARP / unsolicited NA, then by the Service annotation, an event and the
// NodeState — in that order, because traffic must move before the API hears of it.
import type { KubernetesObject } from "@kubernetes/client-node";
import { load as loadYaml, CORE_SCHEMA } from "js-yaml";
import { AGENT_CONFIG_NAME, type AgentConfigSpec } from "../api/agentconfig.ts";
import { API_VERSION, GROUP, VERSION } from "../api/addresspool.ts";
import type { Condition } from "../api/meta.ts";
import type { AnnouncedAddress, NodeInterface, NodeStateStatus } from "../api/nodestate.ts";
import type { ServiceObject } from "../api/service.ts";
import { parseAddress } from "../ipam/address.ts";
import { PoolSet } from "../ipam/pool-set.ts";
import { PoolCatalog } from "../controller/pools.ts";
import { realClock, type Clock, type TimerHandle } from "../kube/clock.ts";
import { CoreV1EventSink } from "../kube/event-sink.ts";
import { EventRecorder, type InvolvedObject } from "../kube/events.ts";
import { Informer } from "../kube/informer.ts";
import type { PooledKubeConfig } from "../kube/kubeconfig.ts";
import { makeApiClient } from "../kube/client.ts";
import { ApiError, RawClient } from "../kube/raw.ts";
import { TokenBucket } from "../kube/ratelimit.ts";
import type { Logger } from "../log.ts";
import { CoreV1Api } from "@kubernetes/client-node";
import {
  decideAnnouncements,
  type AddressDecision,
  type PoolInfo,
  type Placement,
} from "./announcements.ts";
import { electAnnouncer } from "./election.ts";
import {
  endpointsByService,
  nodeInfo,
  nodeInternalAddresses,
  poolInfo,
  serviceInfo,
  type EndpointSliceObject,
  type NodeObject,
} from "./cluster-view.ts";
import { agentSettings, type AgentSettings } from "./settings.ts";
import { placeOn, regexProblems, subnetsOf } from "./placement.ts";
import type { Kernel, KernelInterface } from "./kernel/kernel.ts";
import { planAddressChanges } from "./kernel/plan.ts";
import { ipvsStrictArpProblem } from "./kube-proxy.ts";
import type { AgentMetrics } from "./metrics.ts";
import type { DetectorStats } from "./detector/detector.ts";

/** What the agent needs of the failure detector (detector/detector.ts). */
export interface Detector {
  setMembers(members: { name: string; address: string; port?: number }[]): void;
  setKey(key: Buffer): void;
  setSettings(settings: { intervalMs: number; suspicionMs: number; timeoutMs: number }): void;
  isAlive(name: string): boolean;
  ready(): boolean;
  isolated(): boolean;
  view(): { members: string[]; suspects: string[]; dead: string[] };
  onChange(listener: () => void): () => void;
  stats(): DetectorStats;
  stop(): Promise<void>;
}

export type DetectorFactory = (options: {
  self: string;
  bindAddress: string;
  port: number;
  key: Buffer;
  settings: { intervalMs: number; suspicionMs: number; timeoutMs: number };
  members: { name: string; address: string; port?: number }[];
  log: Logger;
}) => Promise<Detector>;

export interface AgentOptions {
  config: PooledKubeConfig;
  nodeName: string;
  /** Namespace of the detector key Secret (the agent's own). */
  namespace: string;
  /** Name of the Secret holding the detector's HMAC key under `key`. */
  keySecret?: string;
  classOnly?: boolean;
  kernel: Kernel;
  detector: DetectorFactory;
  log: Logger;
  metrics?: AgentMetrics;
  clock?: Clock;
  /** Full reconcile even without changes, to repair drift (default 10 s). */
  resyncMs?: number;
}

interface Announcement {
  address: string;
  interface: string;
  services: string[];
}

/** On a NodeState: its agent is restarting; peers leave its addresses alone until then. */
export const RESTARTING_ANNOTATION = "herald.dev/restarting-until";
const RESTART_GRACE_MS = 10_000;
/** Full reconcile even without changes, to repair drift. */
const RESYNC_MS = 10_000;

export const ANNOUNCING_ANNOTATION = {
  IPv4: "herald.dev/announcing-ipv4",
  IPv6: "herald.dev/announcing-ipv6",
} as const;

/** Recorded in managedFields, so `kubectl get -o yaml` shows which writes are the agent's. */
const FIELD_MANAGER = "herald-agent";

export class Agent {
  private readonly options: AgentOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly raw: RawClient;
  private readonly events: EventRecorder;
  private readonly services: Informer<KubernetesObject>;
  private readonly slices: Informer<KubernetesObject>;
  private readonly nodes: Informer<KubernetesObject>;
  private readonly pools: Informer<KubernetesObject>;
  private readonly agentConfigs: Informer<KubernetesObject>;
  private readonly nodeStates: Informer<KubernetesObject>;
  private readonly secrets: Informer<KubernetesObject>;
  private readonly kubeProxy: Informer<KubernetesObject>;
  private readonly catalog = new PoolCatalog();
  private detector: Detector | undefined;
  private detectorProblem: string | undefined = "starting";
  private settings: AgentSettings = agentSettings(undefined);
  private running = false;
  /** Detector state at the last change, to see transitions (see onDetectorChange). */
  private lastDead = new Set<string>();
  private readonly revivedAt = new Map<string, number>();
  /** node -> the restart grace a reconcile is scheduled for */
  private readonly graceTimers = new Map<string, number>();
  private lastRefutations = 0;
  private lastReconcileAt = 0;
  private lastDropped = 0;
  private dropsSeenAt: number | undefined;
  private wasIsolated = false;
  private publishing = false;
  private pendingPublish: AddressDecision[] | undefined;
  private synced = false;
  private reconciling = false;
  private reconcileAgain = false;
  private resyncTimer: TimerHandle | undefined;
  /** What this agent has on the kernel, by address (the last reconcile's result). */
  private readonly announced = new Map<string, Announcement>();
  /** address -> the repeats of its gratuitous ARP / NA, cancelled when the address leaves. */
  private readonly repeating = new Map<string, AbortController>();
  /** Interfaces whose ARP sysctls this agent has set. */
  private readonly preparedInterfaces = new Set<string>();
  /** address -> problem last reported as an event, so each is reported once. */
  private readonly reported = new Map<string, string>();
  private interfaces: KernelInterface[] = [];
  private conditions = new Map<string, Condition>();
  private lastNodeState = "";
  private strictArpProblem: string | undefined;
  private apiReachable = true;
  private withdrawn = false;
  private abandonDetector: (() => void) | undefined;

  constructor(options: AgentOptions) {
    this.options = options;
    this.clock = options.clock ?? realClock;
    this.log = options.log;
    this.raw = new RawClient(options.config, new TokenBucket(50, 100, this.clock));
    this.events = new EventRecorder({
      sink: new CoreV1EventSink(
        makeApiClient(options.config, CoreV1Api, {
          limiter: new TokenBucket(10, 50, this.clock),
          userAgent: "herald-agent",
        }),
      ),
      clock: this.clock,
      component: "agent",
      instance: options.nodeName,
      log: this.log,
    });
    const informer = (path: string, fieldSelector?: string) =>
      new Informer<KubernetesObject>({
        config: options.config,
        path,
        fieldSelector,
        list: (o) => this.raw.list<KubernetesObject>(path, o),
        log: this.log,
        clock: this.clock,
      });
    this.services = informer("/api/v1/services");
    this.slices = informer("/apis/discovery.k8s.io/v1/endpointslices");
    this.nodes = informer("/api/v1/nodes");
    this.pools = informer(`/apis/${GROUP}/${VERSION}/addresspools`);
    this.agentConfigs = informer(`/apis/${GROUP}/${VERSION}/agentconfigs`);
    this.nodeStates = informer(`/apis/${GROUP}/${VERSION}/nodestates`);
    this.secrets = informer(
      `/api/v1/namespaces/${options.namespace}/secrets`,
      `metadata.name=${this.keySecretName}`,
    );
    this.kubeProxy = informer(
      "/api/v1/namespaces/kube-system/configmaps",
      "metadata.name=kube-proxy",
    );
    for (const source of [...this.informers, this.kubeProxy]) {
      for (const event of ["add", "update", "delete"] as const)
        source.on(event, () => this.onClusterChange(source));
    }
  }

  private get keySecretName(): string {
    return this.options.keySecret ?? "herald-agent-key";
  }

  private get informers(): Informer<KubernetesObject>[] {
    return [
      this.services,
      this.slices,
      this.nodes,
      this.pools,
      this.agentConfigs,
      this.nodeStates,
      this.secrets,
    ];
  }

  /** Runs until `signal` aborts. Addresses stay on the kernel: a restart must not drop them. */
  async run(signal: AbortSignal): Promise<void> {
    this.running = true;
    for (const source of this.informers) source.start();
    this.kubeProxy.start();
    await Promise.race([
      Promise.all(this.informers.map((source) => source.synced)),
      new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true })),
    ]);
    if (!signal.aborted) {
      this.synced = true;
      this.log.info({ node: this.options.nodeName }, "caches synced");
      // Publish this node's interfaces before deciding anything, so that peers can count
      // it among the nodes able to hold each address from their first election on.
      this.interfaces = await this.options.kernel.listInterfaces().catch(() => []);
      await this.writeNodeState();
      await this.refreshConfig();
      this.requestReconcile();
      this.scheduleResync();
      this.watchDrops();
      await new Promise((resolve) => {
        if (signal.aborted) resolve(undefined);
        signal.addEventListener("abort", resolve, { once: true });
      });
    }
    this.running = false;
    if (this.resyncTimer) this.clock.clearTimeout(this.resyncTimer);
    if (this.synced) await this.markRestarting();
    for (const source of this.informers) source.stop();
    this.kubeProxy.stop();
    this.abandonDetector?.();
    for (const repeats of this.repeating.values()) repeats.abort();
    await this.detector?.stop();
    await Promise.race([this.events.flush(), this.clock.sleep(2000)]);
  }

  /** Caches synced and the detector warm: the agent acts on a full view. */
  isReady(): boolean {
    return (
      this.informers.every((source) => source.isSynced()) &&
      (this.detector === undefined || this.detector.ready())
    );
  }

  currentDetector(): Detector | undefined {
    return this.detector;
  }

  /** Addresses on this node's kernel put there by this agent, as of the last reconcile. */
  announcements(): Announcement[] {
    return [...this.announced.values()];
  }

  // ---- configuration: AgentConfig, the key, detector membership ----

  private onClusterChange(source: Informer<KubernetesObject>): void {
    // Events during the first sync describe a partial view (the key Secret may not be
    // listed yet); run() reads the whole view once every cache is synced.
    if (!this.running || !this.synced) return;
    if (source === this.agentConfigs || source === this.secrets || source === this.nodes)
      void this.refreshConfig();
    this.requestReconcile();
  }

  private async refreshConfig(): Promise<void> {
    const config = this.agentConfigs.get(AGENT_CONFIG_NAME) as
      { spec?: AgentConfigSpec; metadata?: { generation?: number } } | undefined;
    this.settings = agentSettings(config?.spec);
    const bad = regexProblems(this.settings.localInterfaces);
    this.setCondition(
      "ConfigValid",
      bad.length === 0,
      bad.length === 0 ? "Valid" : "InvalidInterfaceRegex",
      bad.length === 0
        ? "AgentConfig is valid"
        : `AgentConfig ${AGENT_CONFIG_NAME} spec.localInterfaces: ${bad.join("; ")}; ` +
            "those regexes are ignored",
    );
    if (bad.length > 0 && config && this.isReporter("agentconfig")) {
      this.events.warning(
        { apiVersion: API_VERSION, kind: "AgentConfig", name: AGENT_CONFIG_NAME },
        "InvalidInterfaceRegex",
        `spec.localInterfaces: ${bad.join("; ")}`,
      );
    }
    await this.ensureDetector();
    this.detector?.setSettings(this.settings.failureDetector);
    this.detector?.setMembers(this.detectorMembers());
    const key = this.detectorKey();
    if (key) this.detector?.setKey(key);
  }

  private detectorKey(): Buffer | undefined {
    const secret = this.secrets.get(this.keySecretName, this.options.namespace) as
      { data?: Record<string, string> } | undefined;
    const encoded = secret?.data?.key;
    if (!encoded) return undefined;
    const key = Buffer.from(encoded, "base64");
    return key.length >= 16 ? key : undefined;
  }

  private detectorMembers(): { name: string; address: string; port: number }[] {
    const members: { name: string; address: string; port: number }[] = [];
    for (const object of this.nodes.list()) {
      const name = object.metadata?.name;
      const { ipv4, ipv6 } = nodeInternalAddresses(object as NodeObject);
      const address = ipv4 ?? ipv6;
      if (name && address)
        members.push({ name, address, port: this.settings.failureDetector.port });
    }
    return members;
  }

  private detectorStarting = false;

  private async ensureDetector(): Promise<void> {
    if (this.detector || this.detectorStarting) return;
    const key = this.detectorKey();
    const self = this.nodes.get(this.options.nodeName) as NodeObject | undefined;
    const { ipv4, ipv6 } = self ? nodeInternalAddresses(self) : {};
    const bindAddress = ipv4 ?? ipv6;
    const problem = !key
      ? `Secret ${this.options.namespace}/${this.keySecretName} with a "key" of at least 16 bytes is missing`
      : !self
        ? `Node ${this.options.nodeName} does not exist`
        : !bindAddress
          ? `Node ${this.options.nodeName} has no InternalIP`
          : undefined;
    if (problem !== undefined || !key || !bindAddress) {
      if (this.detectorProblem !== problem)
        this.log.warn({ problem }, "failure detector not running");
      this.detectorProblem = problem;
      this.setCondition(
        "DetectorHealthy",
        false,
        "NotRunning",
        `${problem}; failover waits for Node status`,
      );
      return;
    }
    this.detectorStarting = true;
    try {
      const detector = await this.options.detector({
        self: this.options.nodeName,
        bindAddress,
        port: this.settings.failureDetector.port,
        key,
        settings: this.settings.failureDetector,
        members: this.detectorMembers(),
        log: this.log.child({ part: "detector" }),
      });
      if (!this.running) {
        await detector.stop();
        return;
      }
      this.detector = detector;
      this.detectorProblem = undefined;
      this.abandonDetector = detector.onChange(() => this.onDetectorChange());
      this.options.metrics?.watchDetector(() => this.detector);
      this.log.info(
        { bindAddress, port: this.settings.failureDetector.port },
        "failure detector started",
      );
      // Its view is empty until it has heard heartbeats: reconcile again once it is warm.
      this.clock.setTimeout(
        () => this.requestReconcile(),
        this.settings.failureDetector.timeoutMs + 50,
      );
    } catch (error) {
      this.detectorProblem = `cannot start: ${String(error)}`;
      this.setCondition("DetectorHealthy", false, "NotRunning", this.detectorProblem);
      this.log.error({ err: String(error) }, "failure detector did not start");
    } finally {
      this.detectorStarting = false;
    }
  }

  /**
   * A node the detector brings back to life (its agent restarted, or it came back from a
   * partition) counts as alive for elections only after a hold-off. Its agent needs that
   * long to warm up and announce again; if the node holding its addresses meanwhile let
   * go at once, the network would keep sending traffic to a node that no longer holds
   * them. Until the hold-off ends both nodes hold the address, and both answer.
   */
  private onDetectorChange(): void {
    const detector = this.detector;
    if (!detector) return;
    const now = this.clock.now();
    const view = detector.view();
    const dead = new Set(view.dead);
    for (const name of this.lastDead) {
      if (!dead.has(name)) {
        this.revivedAt.set(name, now);
        this.clock.setTimeout(() => this.requestReconcile(), this.holdOffMs() + 10);
      }
    }
    this.lastDead = dead;
    this.requestReconcile();
  }

  /**
   * After isolation, after peers declared this node dead, or after this process was
   * frozen, peers may have taken its addresses and moved the traffic with their own
   * announcements: forget what was announced, so that all of it is announced again.
   */
  private noticeLostAnnouncements(): void {
    const detector = this.detector;
    if (!detector) return;
    const now = this.clock.now();
    const { refutations } = detector.stats();
    const isolated = detector.isolated();
    const paused = this.lastReconcileAt !== 0 && now - this.lastReconcileAt > RESYNC_MS + 2000;
    if (refutations !== this.lastRefutations || (this.wasIsolated && !isolated) || paused) {
      this.announced.clear();
    }
    this.lastRefutations = refutations;
    this.wasIsolated = isolated;
    this.lastReconcileAt = now;
  }

  /**
   * A stopping agent (SIGTERM: a rolling update, a restart) leaves its addresses on the
   * kernel and tells its peers, through its NodeState, not to take them while it restarts.
   * Without this, peers would see its heartbeats stop and take over, and open connections
   * would be reset twice: once when they take over and once when it takes back. The next
   * agent removes the mark once it announces again; a node that never comes back loses
   * its addresses when the mark expires.
   */
  private async markRestarting(): Promise<void> {
    const until = new Date(this.clock.now() + RESTART_GRACE_MS).toISOString();
    try {
      await Promise.race([
        this.raw.request(
          "PATCH",
          `/apis/${GROUP}/${VERSION}/nodestates/${this.options.nodeName}?fieldManager=${FIELD_MANAGER}`,
          { metadata: { annotations: { [RESTARTING_ANNOTATION]: until } } },
          "application/merge-patch+json",
        ),
        this.clock.sleep(1000),
      ]);
      this.log.info({ until }, "stopping: peers keep this node's addresses here until then");
    } catch (error) {
      this.log.warn({ err: String(error) }, "could not mark this node as restarting");
    }
  }

  /** Once this agent announces again, the mark its predecessor left has done its job. */
  private async clearRestarting(): Promise<void> {
    const own = this.nodeStates.get(this.options.nodeName);
    if (own?.metadata?.annotations?.[RESTARTING_ANNOTATION] === undefined) return;
    await this.raw.request(
      "PATCH",
      `/apis/${GROUP}/${VERSION}/nodestates/${this.options.nodeName}?fieldManager=${FIELD_MANAGER}`,
      { metadata: { annotations: { [RESTARTING_ANNOTATION]: null } } },
      "application/merge-patch+json",
    );
    this.log.info("announcing again: restart mark removed");
  }

  /** A peer that said it is restarting, until when (ms), if that is still ahead. */
  private restartingUntil(node: string): number | undefined {
    const state = this.nodeStates.get(node);
    const value = state?.metadata?.annotations?.[RESTARTING_ANNOTATION];
    const until = value === undefined ? NaN : Date.parse(value);
    return Number.isFinite(until) && until > this.clock.now() ? until : undefined;
  }

  private holdOffMs(): number {
    return 2 * this.settings.failureDetector.timeoutMs;
  }

  private eligibleAlive(node: string): boolean {
    if (node === this.options.nodeName) return true;
    const detector = this.detector;
    if (!detector) return true;
    const restarting = this.restartingUntil(node);
    if (restarting !== undefined) {
      this.revivedAt.delete(node);
      // Decide again when the grace ends, in case the node does not come back.
      if (this.graceTimers.get(node) !== restarting) {
        this.graceTimers.set(node, restarting);
        this.clock.setTimeout(
          () => {
            this.graceTimers.delete(node);
            this.requestReconcile();
          },
          restarting - this.clock.now() + 10,
        );
      }
      return true;
    }
    if (!detector.isAlive(node)) return false;
    const revived = this.revivedAt.get(node);
    if (revived === undefined) return true;
    if (this.clock.now() - revived >= this.holdOffMs()) {
      this.revivedAt.delete(node);
      return true;
    }
    return false;
  }

  // ---- reconciliation ----

  /** Forged or replayed heartbeats change no decision; check for them every few seconds. */
  private watchDrops(): void {
    this.clock.setTimeout(() => {
      if (!this.running) return;
      const dropped = this.detector?.stats().dropped;
      const total = dropped ? dropped.unauthenticated + dropped.replayed : 0;
      if (total !== this.lastDropped) {
        this.lastDropped = total;
        this.dropsSeenAt = this.clock.now();
        this.requestReconcile();
      }
      this.watchDrops();
    }, 2000);
  }

  private scheduleResync(): void {
    this.resyncTimer = this.clock.setTimeout(() => {
      this.requestReconcile();
      if (this.running) this.scheduleResync();
    }, this.options.resyncMs ?? RESYNC_MS);
  }

  /** Coalesces requests: one reconcile at a time, and one more if anything changed meanwhile. */
  requestReconcile(): void {
    if (!this.running) return;
    if (this.reconciling) {
      this.reconcileAgain = true;
      return;
    }
    this.reconciling = true;
    void (async () => {
      do {
        this.reconcileAgain = false;
        const started = performance.now();
        try {
          await this.reconcile();
        } catch (error) {
          this.options.metrics?.reconcileErrors.inc();
          this.log.error({ err: String(error) }, "reconcile failed");
          this.setCondition("KernelReady", false, "ReconcileFailed", String(error));
        }
        this.options.metrics?.reconcileDuration.observe((performance.now() - started) / 1000);
      } while (this.reconcileAgain && this.running);
      this.reconciling = false;
    })();
  }

  private async reconcile(): Promise<void> {
    if (!this.informers.every((source) => source.isSynced())) return;
    // Until the detector has heard its peers, "alive" means nothing: acting now would take
    // addresses from healthy nodes. Keep the kernel as it is (a restart keeps serving).
    if (this.detector && !this.detector.ready()) return;
    this.noticeLostAnnouncements();
    this.interfaces = await this.options.kernel.listInterfaces();
    const decisions = this.decide();

    const detector = this.detector;
    let isolated = false;
    if (detector?.isolated()) {
      this.apiReachable = await this.probeApi();
      isolated = !this.apiReachable;
    }
    this.options.metrics?.isolated.set(isolated ? 1 : 0);
    if (isolated !== this.withdrawn) {
      this.withdrawn = isolated;
      if (isolated)
        this.log.warn(
          "cut off from most peers and from the API server: withdrawing local addresses",
        );
      else this.log.info("reachable again: announcing");
    }

    const mine = isolated
      ? []
      : decisions.filter(
          (d) => d.mode === "Local" && d.announcer === this.options.nodeName && d.interface,
        );
    const desired = mine.map((d) => ({
      address: d.address,
      prefixLength: d.family === "IPv4" ? 32 : 128,
      interface: d.interface!,
    }));
    const changes = planAddressChanges(desired, this.interfaces);
    for (const change of changes.remove) {
      await this.options.kernel.removeAddress(
        change.interface,
        change.address,
        change.prefixLength,
      );
      this.options.metrics?.withdrawals.inc({ family: familyOf(change.address) });
      this.log.info({ address: change.address, interface: change.interface }, "withdrawn");
    }
    for (const change of changes.add) {
      if (!this.preparedInterfaces.has(change.interface)) {
        const set = await this.options.kernel.ensureSysctls(change.interface);
        if (set.length > 0) this.log.info({ interface: change.interface, set }, "ARP sysctls set");
        this.preparedInterfaces.add(change.interface);
      }
      await this.options.kernel.addAddress(change.interface, change.address, change.prefixLength);
    }
    // Announce every address this agent did not announce before, not only those it just
    // added: after a restart, or when it takes back an address it never removed, the
    // network may still send the traffic to the node that held it meanwhile.
    // The same when the Service says another node announces it now (the annotation is
    // written only after that node's own announcement went out).
    const added = mine.filter((d) => !this.announced.has(d.address) || this.announcedElsewhere(d));
    for (const decision of added) {
      const iface = decision.interface!;
      // Repeats stop when the address leaves this node (see below) or the agent stops.
      const repeats = new AbortController();
      this.repeating.get(decision.address)?.abort();
      this.repeating.set(decision.address, repeats);
      void this.options.kernel
        .announce(iface, decision.address, this.settings.garp, repeats.signal)
        .then((announcement) => announcement.done)
        .then((result) => {
          this.options.metrics?.garpsSent.inc({ family: decision.family }, result.sent);
          if (result.error)
            this.log.warn(
              { address: decision.address, err: result.error },
              "announcement repeat failed",
            );
        })
        .catch((error: unknown) =>
          this.log.warn({ err: String(error), address: decision.address }, "announcement failed"),
        );
      this.options.metrics?.takeovers.inc({ family: decision.family });
      this.log.info({ address: decision.address, interface: iface }, "announcing");
    }

    const still = new Set(mine.map((d) => d.address));
    for (const [address, repeats] of this.repeating) {
      if (still.has(address)) continue;
      repeats.abort();
      this.repeating.delete(address);
    }
    this.announced.clear();
    for (const decision of mine) {
      this.announced.set(decision.address, {
        address: decision.address,
        interface: decision.interface!,
        services: decision.services,
      });
    }
    this.setCondition(
      "KernelReady",
      true,
      "Reconciled",
      "kernel addresses match the announcements",
    );
    for (const family of ["IPv4", "IPv6"] as const) {
      this.options.metrics?.announced.set(
        { mode: "Local", family },
        mine.filter((d) => d.family === family).length,
      );
    }

    for (const decision of added) {
      for (const service of decision.services) {
        const [namespace, name] = service.split("/") as [string, string];
        this.events.normal(
          { apiVersion: "v1", kind: "Service", namespace, name },
          "Announcing",
          `${this.options.nodeName} announces ${decision.address} on ${decision.interface}`,
        );
      }
    }
    this.publish(decisions);
  }

  /**
   * Tells the API what the kernel now holds: annotations, problems, NodeState. Off the
   * reconcile path — a slow or unreachable API server must never delay a takeover — and
   * coalesced: only the latest decisions are published once the previous round is done.
   */
  private publish(decisions: AddressDecision[]): void {
    const idle = this.pendingPublish === undefined;
    this.pendingPublish = decisions;
    if (!idle || this.publishing) return;
    this.publishing = true;
    void (async () => {
      while (this.pendingPublish !== undefined) {
        const latest = this.pendingPublish;
        this.pendingPublish = undefined;
        try {
          await this.writeAnnotations(latest);
          this.reportProblems(latest);
          this.checkStrictArp();
          await this.writeNodeState();
          await this.clearRestarting();
        } catch (error) {
          this.log.warn({ err: String(error) }, "could not publish the agent's state");
        }
      }
      this.publishing = false;
    })();
  }

  private announcedElsewhere(decision: AddressDecision): boolean {
    const key = ANNOUNCING_ANNOTATION[decision.family];
    return decision.services.some((serviceKey) => {
      const [namespace, name] = serviceKey.split("/") as [string, string];
      const value = this.services.get(name, namespace)?.metadata?.annotations?.[key];
      const node = value?.split(" ")[0];
      return node !== undefined && node !== this.options.nodeName;
    });
  }

  private decide(): AddressDecision[] {
    const catalog = this.catalog.update(this.pools.list());
    const poolSet = new PoolSet(catalog.pools);
    const infos = new Map<string, PoolInfo>();
    for (const pool of catalog.pools)
      infos.set(
        pool.name,
        poolInfo(pool, this.settings.localInterfaces.filter(validRegex), validRegex),
      );
    const endpoints = endpointsByService(this.slices.list() as EndpointSliceObject[]);
    const services = [];
    for (const object of this.services.list()) {
      const info = serviceInfo(object as ServiceObject, endpoints, this.options.classOnly ?? false);
      if (info) services.push(info);
    }
    const nodes = new Map();
    for (const object of this.nodes.list()) {
      const info = nodeInfo(object as NodeObject);
      if (info) nodes.set(info.name, info);
    }
    return decideAnnouncements({
      nodes,
      alive: (node) => this.eligibleAlive(node),
      poolOf: (text) => {
        const address = parseAddress(text);
        const pool = address && poolSet.owner(address.family, address.value);
        return pool ? infos.get(pool.name) : undefined;
      },
      services,
      placement: (node, address, pool) => this.placement(node, address, pool),
    });
  }

  /** This node places by its kernel; others by the interfaces their NodeState publishes. */
  private placement(node: string, address: string, pool: PoolInfo): Placement {
    if (node === this.options.nodeName) return placeOn(address, this.interfaces, pool.interfaces);
    const state = this.nodeStates.get(node) as { status?: NodeStateStatus } | undefined;
    // A peer alive to the detector whose NodeState has not arrived yet (both agents just
    // started) is assumed able to hold the address: otherwise every agent would see only
    // itself able and all would announce. If it cannot, its NodeState soon says so.
    if (!state?.status?.interfaces) return { interface: "(unpublished)" };
    return placeOn(address, state.status.interfaces, pool.interfaces);
  }

  private async probeApi(): Promise<boolean> {
    const answer = this.raw.request("GET", "/version").then(
      () => true,
      (error: unknown) => error instanceof ApiError,
    );
    const timeout = this.clock.sleep(Math.max(200, this.settings.failureDetector.intervalMs * 3));
    return Promise.race([answer, timeout.then(() => false)]);
  }

  // ---- what the API hears ----

  /**
   * The announcer writes "<node> <interface>" on each service of its addresses. A node that
   * stops announcing removes the annotation only while it still names itself: a JSON patch
   * with a test, so it never erases what the new announcer wrote meanwhile.
   */
  private async writeAnnotations(decisions: readonly AddressDecision[]): Promise<void> {
    const self = this.options.nodeName;
    const writes: Promise<unknown>[] = [];
    for (const decision of decisions) {
      const key = ANNOUNCING_ANNOTATION[decision.family];
      const value =
        decision.announcer === self && this.announced.has(decision.address)
          ? `${self} ${decision.interface}`
          : undefined;
      for (const serviceKey of decision.services) {
        const [namespace, name] = serviceKey.split("/") as [string, string];
        const service = this.services.get(name, namespace);
        const current = service?.metadata?.annotations?.[key];
        const path = `/api/v1/namespaces/${namespace}/services/${name}`;
        const pointer = `/metadata/annotations/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
        if (value !== undefined && current !== value) {
          const ops = service?.metadata?.annotations
            ? [{ op: "add", path: pointer, value }]
            : [{ op: "add", path: "/metadata/annotations", value: { [key]: value } }];
          writes.push(this.patch(path, ops));
        } else if (
          value === undefined &&
          current?.split(" ")[0] === self &&
          !this.withdrawnBy(decision)
        ) {
          writes.push(
            this.patch(path, [
              { op: "test", path: pointer, value: current },
              { op: "remove", path: pointer },
            ]),
          );
        }
      }
    }
    await Promise.all(writes);
  }

  /** True when another node took over (its write will replace ours; nothing to remove). */
  private withdrawnBy(decision: AddressDecision): boolean {
    return decision.announcer !== undefined && decision.announcer !== this.options.nodeName;
  }

  private async patch(path: string, ops: object[]): Promise<void> {
    try {
      await this.raw.request(
        "PATCH",
        `${path}?fieldManager=${FIELD_MANAGER}`,
        ops,
        "application/json-patch+json",
      );
    } catch (error) {
      // 422 from a failed test: someone else wrote meanwhile, which is what we wanted.
      if (error instanceof ApiError && (error.code === 422 || error.code === 404)) return;
      this.log.warn({ err: String(error), path }, "could not annotate service");
    }
  }

  private reportProblems(decisions: readonly AddressDecision[]): void {
    const seen = new Set<string>();
    for (const decision of decisions) {
      seen.add(decision.address);
      if (decision.problem === undefined || decision.reporter !== this.options.nodeName) {
        this.reported.delete(decision.address);
        continue;
      }
      if (this.reported.get(decision.address) === decision.problem) continue;
      this.reported.set(decision.address, decision.problem);
      // Waiting for endpoints is normal life (a rollout); a placement problem needs a human.
      const warning = decision.problem !== "no serving endpoint";
      for (const serviceKey of decision.services) {
        const [namespace, name] = serviceKey.split("/") as [string, string];
        const object: InvolvedObject = { apiVersion: "v1", kind: "Service", namespace, name };
        const message = `${decision.address} is not announced: ${decision.problem}`;
        if (warning) this.events.warning(object, "NotAnnounced", message);
        else this.events.normal(object, "NotAnnounced", message);
      }
      if (decision.pool && decision.problem.startsWith("no eligible node can hold")) {
        this.events.warning(
          { apiVersion: API_VERSION, kind: "AddressPool", name: decision.pool },
          "NotAnnounced",
          `${decision.address}: ${decision.problem}`,
        );
      }
    }
    for (const address of [...this.reported.keys()])
      if (!seen.has(address)) this.reported.delete(address);
    // Bad interface regexes on pools: every agent notes them, one reports them.
    for (const object of this.pools.list()) {
      const regexes = (object as { spec?: { interfaces?: unknown } }).spec?.interfaces;
      if (!Array.isArray(regexes)) continue;
      const bad = regexProblems(regexes.filter((r): r is string => typeof r === "string"));
      const name = object.metadata?.name ?? "";
      const key = `pool/${name}`;
      if (bad.length === 0) {
        this.reported.delete(key);
        continue;
      }
      const message = `spec.interfaces: ${bad.join("; ")}`;
      if (this.reported.get(key) === message || !this.isReporter(key)) continue;
      this.reported.set(key, message);
      this.events.warning(
        { apiVersion: API_VERSION, kind: "AddressPool", name },
        "InvalidInterfaceRegex",
        message,
      );
    }
  }

  /** One agent reports cluster-wide problems: the rendezvous winner for `topic` among living nodes. */
  private isReporter(topic: string): boolean {
    const living = this.nodes
      .list()
      .map((n) => n.metadata?.name ?? "")
      .filter(
        (name) =>
          name && (name === this.options.nodeName || (this.detector?.isAlive(name) ?? true)),
      );
    return electAnnouncer(topic, living) === this.options.nodeName;
  }

  /**
   * kube-proxy in IPVS mode without strictARP answers ARP for every LoadBalancer address.
   * Its ConfigMap is watched by an informer outside the sync gate: a cluster without it, or
   * RBAC that hides it, must not keep the agent from starting.
   */
  private checkStrictArp(): void {
    const configMap = this.kubeProxy.get("kube-proxy", "kube-system") as
      { data?: Record<string, string> } | undefined;
    const problem = ipvsStrictArpProblem(configMap?.data ?? {}, (text) =>
      loadYaml(text, { schema: CORE_SCHEMA }),
    );
    if (problem !== undefined && problem !== this.strictArpProblem) {
      this.events.warning(
        { apiVersion: "v1", kind: "Node", name: this.options.nodeName },
        "StrictARPDisabled",
        problem,
      );
      this.log.warn({ problem }, "kube-proxy would answer ARP for load-balancer addresses");
    }
    this.strictArpProblem = problem;
  }

  private setCondition(type: string, ok: boolean, reason: string, message: string): void {
    const previous = this.conditions.get(type);
    const status = ok ? "True" : "False";
    if (
      previous &&
      previous.status === status &&
      previous.reason === reason &&
      previous.message === message
    )
      return;
    this.conditions.set(type, {
      type,
      status,
      reason,
      message,
      lastTransitionTime:
        previous && previous.status === status
          ? previous.lastTransitionTime
          : new Date(this.clock.now()).toISOString().replace(/\.\d+Z$/, "Z"),
    });
  }

  private nodeStateStatus(): NodeStateStatus {
    const detector = this.detector;
    if (detector) {
      // Forged or replayed heartbeats mark the detector unhealthy for ten minutes after the
      // last one: long enough to be seen, short enough to clear once the sender is gone.
      const dropped = detector.stats().dropped;
      const recent =
        this.dropsSeenAt !== undefined && this.clock.now() - this.dropsSeenAt < 600_000;
      this.setCondition(
        "DetectorHealthy",
        !recent,
        recent ? "DroppedPackets" : "Running",
        recent
          ? `dropped ${dropped.unauthenticated} unauthenticated and ${dropped.replayed} replayed ` +
              "heartbeats since the agent started (wrong key, or someone else sending)"
          : "heartbeats authenticated",
      );
    }
    this.setCondition(
      "KubeProxyStrictARP",
      this.strictArpProblem === undefined,
      this.strictArpProblem === undefined ? "NotNeeded" : "StrictARPDisabled",
      this.strictArpProblem ?? "kube-proxy does not answer ARP for load-balancer addresses",
    );
    const view = detector?.view() ?? { members: [], suspects: [], dead: [] };
    const announced: AnnouncedAddress[] = this.announcements().map((a) => ({
      address: a.address,
      services: a.services,
      mode: "Local",
      interface: a.interface,
    }));
    const interfaces: NodeInterface[] = subnetsOf(this.interfaces);
    return {
      announced,
      interfaces,
      detector: view,
      counts: {
        local: announced.length,
        routed: 0,
        sessionsEstablished: 0,
        sessions: 0,
        suspects: view.suspects.length,
        dead: view.dead.length,
      },
      conditions: [...this.conditions.values()].sort((a, b) => (a.type < b.type ? -1 : 1)),
    };
  }

  /** Writes NodeState when what it says changed (never just to refresh a timestamp). */
  private async writeNodeState(): Promise<void> {
    const status = this.nodeStateStatus();
    const text = JSON.stringify(status);
    if (text === this.lastNodeState) return;
    const name = this.options.nodeName;
    const base = `/apis/${GROUP}/${VERSION}/nodestates`;
    try {
      if (!this.nodeStates.get(name)) {
        const node = this.nodes.get(name);
        await this.raw
          .request("POST", base, {
            apiVersion: API_VERSION,
            kind: "NodeState",
            metadata: {
              name,
              ownerReferences: node?.metadata?.uid
                ? [{ apiVersion: "v1", kind: "Node", name, uid: node.metadata.uid }]
                : undefined,
            },
          })
          .catch((error: unknown) => {
            if (!(error instanceof ApiError && error.code === 409)) throw error;
          });
      }
      await this.raw.request(
        "PATCH",
        `${base}/${name}/status?fieldManager=${FIELD_MANAGER}`,
        {
          status: {
            ...status,
            updateTime: new Date(this.clock.now()).toISOString().replace(/\.\d+Z$/, "Z"),
          },
        },
        "application/merge-patch+json",
      );
      this.lastNodeState = text;
    } catch (error) {
      this.log.warn({ err: String(error) }, "could not write NodeState");
    }
  }
}

function validRegex(regex: string): boolean {
  return regexProblems([regex]).length === 0;
}

function familyOf(address: string): "IPv4" | "IPv6" {
  return address.includes(":") ? "IPv6" : "IPv4";
}
