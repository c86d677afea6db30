// The node agent (DESIGN §2, §5): decides which local addresses this node announces and
// makes the kernel hold exactly those.
//
// Informers keep Services, EndpointSlices, Nodes, AddressPools, AgentConfig and the other
// agents' NodeStates; the failure detector says who is alive. On any change the agent
// reconciles: it reads the kernel, runs the announcement rules (announcements.ts) on that
// view, and adds or removes only the addresses it owns. A takeover is followed by
// gratuitous ARP / unsolicited NA, then by the Service annotation, an event and the
// NodeState — in that order, because traffic must move before the API hears of it.
import { join } from "node:path";
import { BGP_PASSWORDS_SECRET } from "../api/bgppeer.ts";
import { LEAVING_ANNOTATION } from "../api/nodestate.ts";
import { AGENT_CONFIG_NAME } from "../api/agentconfig.ts";
import { API_VERSION, GROUP, VERSION } from "../api/addresspool.ts";
import type { BGPSessionStatus, NodeInterface } from "../api/nodestate.ts";
import { PoolCatalog } from "../ipam/pool-catalog.ts";
import { realClock, within, type Clock, type TimerHandle } from "../clock.ts";
import { CoreV1EventSink } from "../kube/event-sink.ts";
import { EventRecorder } from "../kube/events.ts";
import { Informer, type CachedObject } from "../kube/informer.ts";
import type { PooledKubeConfig } from "../kube/kubeconfig.ts";
import { makeApiClient } from "../kube/client.ts";
import { ApiError, RawClient } from "../kube/raw.ts";
import { TokenBucket } from "../kube/ratelimit.ts";
import type { Logger } from "../log.ts";
import { CoreV1Api } from "@kubernetes/client-node";
import { familyOf } from "../ip.ts";
import type { AddressDecision, NodeInfo } from "./announcements.ts";
import { electAnnouncer } from "./election.ts";
import {
  endpointsByService,
  daemonSetVerdict,
  nodeInfo,
  nodeLeaving,
  type DaemonSetObject,
  nodeInternalAddresses,
  serviceInfo,
  type AgentConfigObject,
  type BGPAdvertisementObject,
  type BGPPeerObject,
  type ConfigMapObject,
  type EndpointSliceObject,
  type NodeObject,
  type NodeStateObject,
  type PoolObject,
  type SecretObject,
} from "./cluster-view.ts";
import { agentSettings, type AgentSettings } from "./settings.ts";
import { PeerLiveness, revivalHoldOffMs } from "./peer-liveness.ts";
import { BirdDaemon, type BirdMode } from "./bird/daemon.ts";
import { Routing } from "./routing.ts";
import { ANNOUNCING_ANNOTATION, splitKey, type ServiceObject } from "../api/service.ts";
import { Reporter, type AnnouncedHere } from "./reporter.ts";
import { regexProblems } from "./placement.ts";
import type { Kernel, KernelInterface } from "./kernel/kernel.ts";
import { applyAddressChanges } from "./kernel/kernel.ts";
import { planAddressChanges, type AddressAssignment } from "./kernel/plan.ts";
import type { AgentMetrics } from "./metrics.ts";
import type { DetectorStats } from "./detector/detector.ts";
import {
  DRAIN_INTERFACE,
  desiredAddresses,
  planNode,
  shutdownPhaseEnd,
  type AgentSnapshot,
  type NodePlan,
} from "./plan.ts";
import { activeHandoffs, handoffRules, nextHandoffs, type FlowHandoff } from "./flow-handoff.ts";

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
  /**
   * The DaemonSet this agent runs in (deploy/: herald-agent), read on SIGTERM: gone or
   * being deleted means Herald is being removed, no longer selecting this node means no
   * agent comes back here. Unset (the lab, an agent run by hand): neither is checked.
   */
  daemonSet?: string;
  classOnly?: boolean;
  kernel: Kernel;
  detector: DetectorFactory;
  log: Logger;
  metrics?: AgentMetrics;
  clock?: Clock;
  /** Full reconcile even without changes, to repair drift (default 10 s). */
  resyncMs?: number;
  /** Where BIRD's configuration and control socket live (default /run/herald/bird-NODE). */
  birdDir?: string;
  /** Whether the agent runs BIRD itself ("child", the default) or a sidecar does. */
  birdMode?: BirdMode;
}

/** Full reconcile even without changes, to repair drift. */
const RESYNC_MS = 10_000;
/**
 * How long a reconcile waits for the first round of its new announcements (an arping or
 * ndisc6 run, milliseconds) before it publishes NodeState anyway.
 */
const FIRST_ROUND_WAIT_MS = 1000;

export class Agent {
  private readonly options: AgentOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly raw: RawClient;
  private readonly events: EventRecorder;
  private readonly services: Informer<ServiceObject>;
  private readonly slices: Informer<EndpointSliceObject>;
  private readonly nodes: Informer<NodeObject>;
  private readonly pools: Informer<PoolObject>;
  private readonly agentConfigs: Informer<AgentConfigObject>;
  private readonly nodeStates: Informer<NodeStateObject>;
  private readonly keySecret: Informer<SecretObject>;
  private readonly bgpPasswords: Informer<SecretObject>;
  private readonly bgpPeers: Informer<BGPPeerObject>;
  private readonly bgpAdvertisements: Informer<BGPAdvertisementObject>;
  private readonly routing: Routing;
  private sessions: BGPSessionStatus[] = [];
  private readonly kubeProxy: Informer<ConfigMapObject>;
  private readonly catalog = new PoolCatalog();
  private readonly liveness: PeerLiveness;
  private readonly reporter: Reporter;
  private detector: Detector | undefined;
  private detectorProblem: string | undefined = "starting";
  private settings: AgentSettings = agentSettings(undefined);
  private running = false;
  /** Detector state at the last reconcile, to see transitions (see noticeLostAnnouncements). */
  private lastRefutations = 0;
  private lastReconcileAt = 0;
  private watchTimer: TimerHandle | undefined;
  /** The virtual interface known to exist. */
  private virtualReady: string | undefined;
  private lastDropped = 0;
  private dropsSeenAt: number | undefined;
  private wasIsolated = false;
  private synced = false;
  private reconciling = false;
  private reconcileAgain = false;
  private resyncTimer: TimerHandle | undefined;
  /** What this agent has on the kernel, by address (the last reconcile's result). */
  private readonly announced = new Map<string, AnnouncedHere>();
  /** Local addresses kept until the node they move to announces them, since when (plan.ts). */
  private handingOver: ReadonlyMap<string, number> = new Map();
  /** Local addresses handed over, kept while their connections finish, since when (plan.ts). */
  private draining: ReadonlyMap<string, number> = new Map();
  /** Routed addresses in their graceful shutdown, since when (plan.ts). */
  private shuttingDown: ReadonlyMap<string, number> = new Map();
  /** Addresses taken over whose old holder still gets its connections' segments. */
  private handoffs: ReadonlyMap<string, FlowHandoff> = new Map();
  /** The handover rules last given to the kernel; undefined: none yet (a restart clears). */
  private handoffRules: string | undefined;
  private handoffRulesError: string | undefined;
  private maintenanceTimer: TimerHandle | undefined;
  /** Set once this agent stops on a node that is going away: why. */
  private leaving: string | undefined;
  /** Local addresses another node claimed after this one took them (snapshot()). */
  private claimedAfterUs: ReadonlySet<string> = new Set();
  /** Local addresses a node this one holds off announces too: no repeats here (snapshot()). */
  private yielding: ReadonlySet<string> = new Set();
  /** The agent could read its DaemonSet when it started (readDaemonSet). */
  private daemonSetReadable = false;
  /** Reconcile passes completed, so that leave() knows one ran after it began. */
  private reconcilePasses = 0;
  /** address -> the repeats of its gratuitous ARP / NA, cancelled when the address leaves. */
  private readonly repeating = new Map<string, AbortController>();
  /**
   * address -> the other node its Services' annotations named at the last reconcile ("" for
   * none): an announcement goes out again when that changes to another node, not for as
   * long as it names the node this one took the address from.
   */
  private readonly namedElsewhere = new Map<string, string>();
  /** Interfaces whose ARP sysctls could not be set, with why. */
  private readonly sysctlProblems = new Map<string, string>();
  /** Interfaces whose ARP sysctls this agent has set. */
  private readonly preparedInterfaces = new Set<string>();
  private interfaces: KernelInterface[] = [];
  private withdrawn = false;
  private abandonDetector: (() => void) | undefined;

  constructor(options: AgentOptions) {
    this.options = options;
    this.clock = options.clock ?? realClock;
    this.log = options.log;
    this.raw = new RawClient(options.config, new TokenBucket(50, 100, this.clock));
    this.liveness = new PeerLiveness(
      this.clock,
      () => revivalHoldOffMs(this.settings.failureDetector.timeoutMs),
      () => this.requestReconcile(),
    );
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
    const informer = <T extends CachedObject>(path: string, fieldSelector?: string) =>
      new Informer<T>({
        config: options.config,
        path,
        fieldSelector,
        list: (o) => this.raw.list<T>(path, o),
        log: this.log,
        clock: this.clock,
      });
    this.services = informer<ServiceObject>("/api/v1/services");
    this.slices = informer<EndpointSliceObject>("/apis/discovery.k8s.io/v1/endpointslices");
    this.nodes = informer<NodeObject>("/api/v1/nodes");
    this.pools = informer<PoolObject>(`/apis/${GROUP}/${VERSION}/addresspools`);
    this.agentConfigs = informer<AgentConfigObject>(`/apis/${GROUP}/${VERSION}/agentconfigs`);
    this.nodeStates = informer<NodeStateObject>(`/apis/${GROUP}/${VERSION}/nodestates`);
    // Two Secrets by name, which is all RBAC lets the agent read (agent-rbac.yaml): the
    // detector key and the controller's copy of the BGP passwords.
    const secretsPath = `/api/v1/namespaces/${options.namespace}/secrets`;
    this.keySecret = informer<SecretObject>(secretsPath, `metadata.name=${this.keySecretName}`);
    this.bgpPasswords = informer<SecretObject>(
      secretsPath,
      `metadata.name=${BGP_PASSWORDS_SECRET}`,
    );
    this.bgpPeers = informer<BGPPeerObject>(`/apis/${GROUP}/${VERSION}/bgppeers`);
    this.bgpAdvertisements = informer<BGPAdvertisementObject>(
      `/apis/${GROUP}/${VERSION}/bgpadvertisements`,
    );
    const birdDir = options.birdDir ?? `/run/herald/bird-${options.nodeName}`;
    this.routing = new Routing({
      sources: {
        peers: this.bgpPeers,
        advertisements: this.bgpAdvertisements,
        pools: this.pools,
        passwords: this.bgpPasswords,
      },
      namespace: options.namespace,
      daemon: () =>
        new BirdDaemon({
          configPath: join(birdDir, "bird.conf"),
          socketPath: join(birdDir, "bird.ctl"),
          mode: options.birdMode,
          log: this.log.child({ part: "bird" }),
        }),
      log: this.log,
    });
    this.kubeProxy = informer<ConfigMapObject>(
      "/api/v1/namespaces/kube-system/configmaps",
      "metadata.name=kube-proxy",
    );
    this.reporter = new Reporter({
      nodeName: options.nodeName,
      raw: this.raw,
      events: this.events,
      clock: this.clock,
      log: this.log,
      services: this.services,
      pools: this.pools,
      nodes: this.nodes,
      nodeStates: this.nodeStates,
      kubeProxy: this.kubeProxy,
      isReporter: (topic) => this.isReporter(topic),
    });
    for (const source of [...this.informers, this.kubeProxy]) {
      for (const event of ["add", "update", "delete"] as const)
        source.on(event, () => this.onClusterChange(source));
    }
  }

  private get keySecretName(): string {
    return this.options.keySecret ?? "herald-agent-key";
  }

  private get informers(): Informer<CachedObject>[] {
    return [
      this.services,
      this.slices,
      this.nodes,
      this.pools,
      this.agentConfigs,
      this.nodeStates,
      this.keySecret,
      this.bgpPasswords,
      this.bgpPeers,
      this.bgpAdvertisements,
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
      this.log.info({ node: this.options.nodeName }, "caches synced");
      // Publish this node's interfaces before deciding anything, so that peers can count
      // it among the nodes able to hold each address from their first election on.
      this.interfaces = await this.options.kernel.listInterfaces().catch(() => []);
      await this.reporter.publishInterfaces(this.interfaces);
      if (this.options.daemonSet) {
        const daemonSet = await this.readDaemonSet(this.options.daemonSet);
        this.daemonSetReadable = daemonSet !== undefined && daemonSet !== "refused";
        if (!this.daemonSetReadable)
          this.log.warn(
            { daemonSet: this.options.daemonSet },
            "cannot read this agent's DaemonSet: an uninstall will leave its addresses on the kernel",
          );
      }
      await this.refreshConfig();
      // Only now: a pass begun before the detector exists would act on Node status alone.
      this.synced = true;
      this.requestReconcile();
      this.scheduleResync();
      this.watch();
      await new Promise((resolve) => {
        if (signal.aborted) resolve(undefined);
        signal.addEventListener("abort", resolve, { once: true });
      });
    }
    if (this.synced) {
      const verdict = await this.daemonSetVerdict();
      const leaving =
        verdict && "leaving" in verdict ? verdict.leaving : await this.leavingReason();
      if (verdict && "uninstall" in verdict) await this.uninstall(verdict.uninstall);
      else if (leaving) await this.leave(leaving);
      else await this.reporter.markRestarting();
    }
    this.running = false;
    if (this.resyncTimer) this.clock.clearTimeout(this.resyncTimer);
    if (this.maintenanceTimer) this.clock.clearTimeout(this.maintenanceTimer);
    for (const source of this.informers) source.stop();
    this.kubeProxy.stop();
    if (this.watchTimer) this.clock.clearTimeout(this.watchTimer);
    await this.routing.stop();
    this.abandonDetector?.();
    for (const repeats of this.repeating.values()) repeats.abort();
    await this.detector?.stop();
    await within(this.clock, 2000, this.events.flush(), undefined);
  }

  /**
   * This agent's DaemonSet: the object; null when it is gone (404); "refused" when the API
   * server will not say (401/403: its ServiceAccount or RBAC gone); undefined when it did
   * not answer within a second.
   */
  private async readDaemonSet(
    name: string,
  ): Promise<DaemonSetObject | null | "refused" | undefined> {
    const path = `/apis/apps/v1/namespaces/${encodeURIComponent(this.options.namespace)}/daemonsets/${encodeURIComponent(name)}`;
    const read = this.raw.request("GET", path).then(
      (object) => object as DaemonSetObject,
      (error: unknown) => {
        if (!(error instanceof ApiError)) return undefined;
        if (error.code === 404) return null;
        return error.code === 401 || error.code === 403 ? ("refused" as const) : undefined;
      },
    );
    return within(this.clock, 1000, read, undefined);
  }

  /** This node's Node, read now; undefined when the API server did not say within a second. */
  private async readOwnNode(): Promise<NodeObject | undefined> {
    // By list, which the agent's role grants (get it does not need otherwise).
    const selector = encodeURIComponent(`metadata.name=${this.options.nodeName}`);
    const read = this.raw.request("GET", `/api/v1/nodes?fieldSelector=${selector}`).then(
      (list) => (list as { items?: NodeObject[] }).items?.[0],
      () => undefined,
    );
    return within(this.clock, 1000, read, undefined);
  }

  /** What this agent's DaemonSet says about the stop (cluster-view.ts). */
  private async daemonSetVerdict(): Promise<ReturnType<typeof daemonSetVerdict>> {
    const name = this.options.daemonSet;
    if (!name) return undefined;
    const daemonSet = await this.readDaemonSet(name);
    // Unanswered: assume a rolling update, the safe guess for traffic.
    if (daemonSet === undefined) return undefined;
    if (daemonSet === "refused") {
      // Readable when this agent started: what took the right away is an uninstall that
      // deleted the RBAC or the ServiceAccount before the DaemonSet's Pods stopped.
      return this.daemonSetReadable
        ? {
            uninstall: `its DaemonSet ${name} can no longer be read (RBAC or ServiceAccount removed)`,
          }
        : undefined;
    }
    return daemonSetVerdict(daemonSet, name, this.nodes.get(this.options.nodeName));
  }

  /**
   * Herald is being removed: no agent will come back on any node, so nothing that stays
   * on the kernel would ever be withdrawn. Remove every address this agent put there.
   */
  private async uninstall(reason: string): Promise<void> {
    this.log.info({ reason }, "stopping for good: withdrawing every address");
    this.running = false;
    while (this.reconciling) await this.clock.sleep(20);
    this.interfaces = await this.options.kernel.listInterfaces().catch(() => this.interfaces);
    await this.applyAddresses([]);
    await this.options.kernel.setHandoffRules(undefined).catch(() => undefined);
  }

  /**
   * Why this node is going away, when its agent stops: a rolling update restarts the agent
   * on a node that stays, while a drain, a shutdown or a removal leaves the node cordoned
   * (whatever maintenance.handoverOnCordon says), tainted, deleted or NotReady (the
   * kubelet's graceful shutdown marks it so before it stops the pods).
   */
  private async leavingReason(): Promise<string | undefined> {
    // As the API server has it now: `kubectl cordon` and a shutdown a moment later can
    // send the SIGTERM before the watch brings the cordon, and a stop taken for a rolling
    // restart keeps every address on a node going away. The cache when it does not answer.
    const node = (await this.readOwnNode()) ?? this.nodes.get(this.options.nodeName);
    if (!node) return undefined;
    const reason = nodeLeaving(node, true);
    if (reason) return reason;
    if (!nodeInfo(node)?.ready) return "its Node is not Ready";
    return undefined;
  }

  /**
   * Stopping on a node that goes away: tell the peers (herald.dev/leaving), let them take
   * every address make-before-break and, in routed mode, send the routes with
   * GRACEFUL_SHUTDOWN before withdrawing them; then stop. Bounded by the handover timeout
   * and the graceful shutdown; what no other node can take stays (nothing better exists).
   */
  private async leave(reason: string): Promise<void> {
    this.leaving = reason;
    const started = this.clock.now();
    this.log.info({ reason }, "stopping on a node that is going away: handing its addresses over");
    await this.reporter.markLeaving(reason);
    const { handoverTimeoutMs, gracefulShutdownMs, connectionDrainMs } = this.settings.maintenance;
    const deadline = started + handoverTimeoutMs + gracefulShutdownMs + connectionDrainMs + 1000;
    // An agent stopped within its detector's warm-up would otherwise find no peer to hand
    // to (reconcile waits for the detector) and keep every address on a node going away.
    while (!this.isReady() && this.clock.now() < deadline) await this.clock.sleep(50);
    // A pass already running took its snapshot before this; the one after it counts.
    const passes = this.reconcilePasses + (this.reconciling ? 1 : 0);
    this.requestReconcile();
    while (this.clock.now() < deadline) {
      const settled =
        this.reconcilePasses > passes &&
        !this.reconciling &&
        this.handingOver.size === 0 &&
        this.draining.size === 0 &&
        this.shuttingDown.size === 0;
      if (settled) break;
      await this.clock.sleep(50);
    }
    this.log.info(
      {
        tookMs: this.clock.now() - started,
        kept: [...this.announced.keys()],
      },
      "handover done",
    );
  }

  /** Caches synced and the detector warm: the agent acts on a full view. */
  isReady(): boolean {
    return (
      this.informers.every((source) => source.isSynced()) &&
      (this.detector === undefined || this.detector.ready())
    );
  }

  /** Addresses on this node's kernel put there by this agent, as of the last reconcile. */
  announcements(): AnnouncedHere[] {
    return [...this.announced.values()];
  }

  // ---- configuration: AgentConfig, the key, detector membership ----

  private onClusterChange(source: Informer<CachedObject>): void {
    // Events during the first sync describe a partial view (the key Secret may not be
    // listed yet); run() reads the whole view once every cache is synced.
    if (!this.running || !this.synced) return;
    if (source === this.agentConfigs || source === this.keySecret || source === this.nodes)
      void this.refreshConfig();
    this.requestReconcile();
  }

  private async refreshConfig(): Promise<void> {
    const config = this.agentConfigs.get(AGENT_CONFIG_NAME);
    this.settings = agentSettings(config?.spec);
    const bad = regexProblems(this.settings.localInterfaces);
    this.reporter.setCondition(
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
    const secret = this.keySecret.get(this.keySecretName, this.options.namespace);
    const encoded = secret?.data?.key;
    if (!encoded) return undefined;
    const key = Buffer.from(encoded, "base64");
    return key.length >= 16 ? key : undefined;
  }

  private detectorMembers(): { name: string; address: string; port: number }[] {
    const members: { name: string; address: string; port: number }[] = [];
    for (const object of this.nodes.list()) {
      const name = object.metadata?.name;
      const { ipv4, ipv6 } = nodeInternalAddresses(object);
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
    const self = this.nodes.get(this.options.nodeName);
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
      this.reporter.setCondition(
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
      this.reporter.setCondition("DetectorHealthy", false, "NotRunning", this.detectorProblem);
      this.log.error({ err: String(error) }, "failure detector did not start");
    } finally {
      this.detectorStarting = false;
      // Passes skipped while it started; with no detector, Node status decides now.
      if (!this.detector) this.requestReconcile();
    }
  }

  private onDetectorChange(): void {
    if (this.detector) this.liveness.observe(this.detector);
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
    const paused =
      this.lastReconcileAt !== 0 && now - this.lastReconcileAt > this.resyncMs() + 2000;
    if (refutations !== this.lastRefutations || (this.wasIsolated && !isolated) || paused) {
      this.announced.clear();
    }
    this.lastRefutations = refutations;
    this.wasIsolated = isolated;
    this.lastReconcileAt = now;
  }

  private eligibleAlive(node: string): boolean {
    if (node === this.options.nodeName || !this.detector) return true;
    return this.liveness.alive(node, this.detector, this.reporter.restartingUntil(node));
  }

  // ---- reconciliation ----

  /**
   * Every few seconds, what changes no decision but belongs in NodeState: BGP sessions as
   * BIRD reports them (a session that leaves Established gets a Warning event on the Node)
   * and forged or replayed heartbeats. Published as they are; no reconcile is needed.
   */
  private watch(): void {
    this.watchTimer = this.clock.setTimeout(async () => {
      if (!this.running) return;
      const sessions = await this.routing.sessions();
      const before = new Map(this.sessions.map((s) => [s.peer, s.state]));
      for (const session of sessions) {
        if (before.get(session.peer) === "Established" && session.state !== "Established") {
          this.events.warning(
            { apiVersion: "v1", kind: "Node", name: this.options.nodeName },
            "BGPSessionDown",
            `BGP session with ${session.peer} left Established: now ${session.state}`,
          );
        }
      }
      if (JSON.stringify(sessions) !== JSON.stringify(this.sessions)) {
        this.sessions = sessions;
        this.options.metrics?.setSessions(sessions);
        this.reporter.update({ sessions });
      }
      const dropped = this.detector?.stats().dropped;
      const total = dropped
        ? dropped.unauthenticated + dropped.replayed + dropped.stale + dropped.misdirected
        : 0;
      if (total !== this.lastDropped) {
        this.lastDropped = total;
        this.dropsSeenAt = this.clock.now();
        this.reporter.update({ dropsSeenAt: this.dropsSeenAt });
      }
      this.watch();
    }, 2000);
  }

  private resyncMs(): number {
    return this.options.resyncMs ?? RESYNC_MS;
  }

  private scheduleResync(): void {
    this.resyncTimer = this.clock.setTimeout(() => {
      this.requestReconcile();
      if (this.running) this.scheduleResync();
    }, this.resyncMs());
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
          this.reconcilePasses++;
        } catch (error) {
          this.options.metrics?.reconcileErrors.inc();
          this.log.error({ err: String(error) }, "reconcile failed");
          this.reporter.setCondition("KernelReady", false, "ReconcileFailed", String(error));
        }
        this.options.metrics?.reconcileDuration.observe((performance.now() - started) / 1000);
      } while (this.reconcileAgain && this.running);
      this.reconciling = false;
    })();
  }

  /**
   * One pass of the pipeline: a snapshot of what the agent knows, the pure plan made from
   * it (plan.ts), then the effectors — kernel addresses, announcements, BIRD, the
   * reporter — each failing on its own: an address that cannot be added or removed is
   * retried on the next pass and does not stop the others.
   */
  private async reconcile(): Promise<void> {
    if (!this.synced || !this.informers.every((source) => source.isSynced())) return;
    // Until the detector has heard its peers, "alive" means nothing: acting now would take
    // addresses from healthy nodes. Keep the kernel as it is (a restart keeps serving).
    // That holds while it is being started too (a pass begun then would act on Node status).
    if (this.detectorStarting || (this.detector && !this.detector.ready())) return;
    this.noticeLostAnnouncements();
    this.interfaces = await this.options.kernel.listInterfaces();
    const snapshot = this.snapshot(await this.isolated());
    const plan = planNode(snapshot);
    this.handingOver = plan.handingOver;
    this.draining = plan.draining;
    this.shuttingDown = plan.shuttingDown;

    const virtual = plan.routed.length > 0 ? await this.virtualInterface() : undefined;
    const failed = await this.applyAddresses(desiredAddresses(plan, virtual));
    const local = plan.local.filter((d) => !failed.has(d.address));
    const routed = virtual === undefined ? [] : plan.routed.filter((d) => !failed.has(d.address));
    const { added, firstRounds } = this.announceNew(local);
    const announcedNow = new Set(added.map((d) => d.address));
    await this.updateHandoffs(snapshot, plan, local, routed, announcedNow);
    this.wakeForMaintenance();
    this.remember(local, routed, virtual, announcedNow);
    await this.updateRouting(routed.filter((d) => !d.draining));
    for (const family of ["IPv4", "IPv6"] as const) {
      this.options.metrics?.announced.set(
        { mode: "Local", family },
        local.filter((d) => d.family === family).length,
      );
      this.options.metrics?.announced.set(
        { mode: "Routed", family },
        routed.filter((d) => d.family === family).length,
      );
    }
    for (const decision of added) {
      for (const service of decision.services) {
        const { namespace, name } = splitKey(service);
        this.events.normal(
          { apiVersion: "v1", kind: "Service", namespace, name },
          "Announcing",
          `${this.options.nodeName} announces ${decision.address} on ${decision.interface}`,
        );
      }
    }
    // NodeState says an address is here once its first announcement is out: a node handing
    // it over lets go when it reads that, and the neighbours must follow this node by then.
    if (firstRounds.length > 0)
      await within(this.clock, FIRST_ROUND_WAIT_MS, Promise.all(firstRounds), undefined);
    this.reporter.publish({
      decisions: [...plan.decisions],
      announced: this.announcements(),
      interfaces: this.interfaces,
      detector: this.detector,
      dropsSeenAt: this.dropsSeenAt,
      sessions: this.sessions,
    });
  }

  /**
   * The handover rules (flow-handoff.ts, kernel/handoff-rules.ts): segments of the
   * connections an old holder accepted go back to it for a moment after this node takes
   * its address, and an address this node drains answers no neighbour. A kernel that
   * cannot have them (no nftables) is logged; handovers go on, resetting those connections.
   */
  private async updateHandoffs(
    snapshot: AgentSnapshot,
    plan: NodePlan,
    local: readonly AddressDecision[],
    routed: readonly AddressDecision[],
    added: ReadonlySet<string>,
  ): Promise<void> {
    this.handoffs = nextHandoffs({
      now: snapshot.now,
      drainMs: this.settings.maintenance.connectionDrainMs,
      gracefulShutdownMs: this.settings.maintenance.gracefulShutdownMs,
      current: this.handoffs,
      local: local.filter((d) => d.handingOverTo === undefined),
      added,
      announcedBy: snapshot.announcedBy,
      routed: routed.filter((d) => !d.gracefulShutdown),
      routedBy: snapshot.routedBy,
      leaving: new Set(
        [...snapshot.nodes.values()].filter((n) => n.leaving !== undefined).map((n) => n.name),
      ),
      alive: snapshot.alive,
      interfaces: this.interfaces,
      published: snapshot.published,
    });
    const active = activeHandoffs(this.handoffs, snapshot.now);
    const rules = handoffRules(active, plan.local);
    const key = JSON.stringify(rules);
    if (key === this.handoffRules) return;
    this.handoffRules = key;
    try {
      await this.options.kernel.setHandoffRules(rules);
      if (active.length + rules.silenced.length > 0)
        this.log.info(
          { passedOn: active.length > 0 ? active : undefined, silenced: rules.silenced },
          "handover rules set",
        );
      this.handoffRulesError = undefined;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message !== this.handoffRulesError)
        this.log.warn(
          { err: message },
          "cannot set the handover rules: connections open at a handover will be reset",
        );
      this.handoffRulesError = message;
    }
  }

  /** A handover, a drain or a graceful shutdown ends by time as well: decide again then. */
  private wakeForMaintenance(): void {
    const { maintenance } = this.settings;
    const now = this.clock.now();
    const ends = [
      ...[...this.handingOver.values()].map((since) => since + maintenance.handoverTimeoutMs),
      ...[...this.draining.values()].map((since) => since + maintenance.connectionDrainMs),
      ...activeHandoffs(this.handoffs, now).map((handoff) => handoff.until),
      ...[...this.shuttingDown.values()].map((since) => shutdownPhaseEnd(since, now, maintenance)),
    ];
    if (this.maintenanceTimer) this.clock.clearTimeout(this.maintenanceTimer);
    this.maintenanceTimer = undefined;
    if (ends.length === 0) return;
    this.maintenanceTimer = this.clock.setTimeout(
      () => {
        this.maintenanceTimer = undefined;
        this.requestReconcile();
      },
      Math.min(...ends) - now + 10,
    );
  }

  /** What the caches, the kernel listing and the detector say now, as plain data. */
  private snapshot(isolated: boolean): AgentSnapshot {
    const endpoints = endpointsByService(this.slices.list());
    const classOnly = this.options.classOnly ?? false;
    const services = this.services
      .list()
      .flatMap((object) => serviceInfo(object, endpoints, classOnly) ?? []);
    const handoverOnCordon = this.settings.maintenance.handoverOnCordon;
    const nodes = new Map<string, NodeInfo>();
    for (const object of this.nodes.list()) {
      const info = nodeInfo(object, { handoverOnCordon });
      if (info) nodes.set(info.name, info);
    }
    const published = new Map<string, NodeInterface[]>();
    const announcedBy = new Map<string, Set<string>>();
    const routedBy = new Map<string, Set<string>>();
    // Local addresses another node took while this one held them (a peer that thought it
    // dead): the neighbours may now point at that node, so they are announced again.
    const claimedAfterUs = new Set<string>();
    const yieldingTo = new Set<string>();
    for (const state of this.nodeStates.list()) {
      const name = state.metadata?.name;
      if (!name) continue;
      if (state.status?.interfaces) published.set(name, state.status.interfaces);
      const leaving = state.metadata?.annotations?.[LEAVING_ANNOTATION];
      const info = nodes.get(name);
      if (leaving !== undefined && info && !info.leaving && name !== this.options.nodeName)
        nodes.set(name, { ...info, leaving: `its agent is leaving (${leaving})` });
      if (name === this.options.nodeName) continue;
      for (const entry of state.status?.announced ?? []) {
        if (entry.mode === "Routed") {
          const routers = routedBy.get(entry.address) ?? new Set<string>();
          routers.add(name);
          routedBy.set(entry.address, routers);
        }
        if (entry.mode !== "Local") continue;
        const holders = announcedBy.get(entry.address) ?? new Set<string>();
        holders.add(name);
        announcedBy.set(entry.address, holders);
        const mine = this.announced.get(entry.address);
        const theirs = entry.since ? Date.parse(entry.since) : NaN;
        // Not against a node this one holds off: it is about to win the address back,
        // and two holders announcing in turn would move the neighbours to and fro. Its
        // own repeats stop too (announceNew), as in a handover.
        if (mine?.mode !== "Local") continue;
        if (this.liveness.holdingOff(name)) yieldingTo.add(entry.address);
        else if (theirs > mine.since) claimedAfterUs.add(entry.address);
      }
    }
    this.claimedAfterUs = claimedAfterUs;
    this.yielding = yieldingTo;
    const own = nodes.get(this.options.nodeName);
    if (own && this.leaving && !own.leaving) nodes.set(own.name, { ...own, leaving: this.leaving });
    const holding = new Map<string, string>();
    const routing = new Set<string>();
    for (const entry of this.announced.values()) {
      if (entry.mode === "Local") holding.set(entry.address, entry.interface);
      else routing.add(entry.address);
    }
    return {
      self: this.options.nodeName,
      localInterfaces: this.settings.localInterfaces,
      interfaces: this.interfaces,
      published,
      nodes,
      alive: new Set([...nodes.keys()].filter((node) => this.eligibleAlive(node))),
      pools: this.catalog.update(this.pools.list()).pools,
      services,
      isolated,
      now: this.clock.now(),
      holding,
      routing,
      announcedBy,
      routedBy,
      handingOver: this.handingOver,
      draining: this.draining,
      shuttingDown: this.shuttingDown,
      maintenance: this.settings.maintenance,
    };
  }

  /**
   * Cut off: the detector hears from too few peers and the API server does not answer
   * either. Then local addresses are withdrawn, since a node that can reach nobody is
   * more likely the one that failed (DESIGN §5).
   */
  private async isolated(): Promise<boolean> {
    const isolated = this.detector?.isolated() ? !(await this.probeApi()) : false;
    this.options.metrics?.isolated.set(isolated ? 1 : 0);
    if (isolated !== this.withdrawn) {
      this.withdrawn = isolated;
      if (isolated)
        this.log.warn(
          "cut off from most peers and from the API server: withdrawing local addresses",
        );
      else this.log.info("reachable again: announcing");
    }
    return isolated;
  }

  /**
   * The kernel effector: makes the node's owned addresses the desired ones. Returns the
   * addresses that could not be put in place (or taken away); each failure is logged and
   * in KernelReady, and the rest go ahead.
   */
  private async applyAddresses(desired: AddressAssignment[]): Promise<Set<string>> {
    const changes = planAddressChanges(desired, this.interfaces);
    // A withdrawn routed address drains on DRAIN_INTERFACE, where no neighbour asks for it.
    for (const iface of new Set(changes.add.map((change) => change.interface)))
      if (!this.preparedInterfaces.has(iface) && iface !== DRAIN_INTERFACE)
        await this.prepare(iface);
    const failures = await applyAddressChanges(this.options.kernel, changes);
    const failed = new Set(failures.map((failure) => failure.assignment.address));
    for (const change of changes.remove) {
      if (failed.has(change.address)) continue;
      this.options.metrics?.withdrawals.inc({ family: familyOf(change.address) });
      this.log.info({ address: change.address, interface: change.interface }, "withdrawn");
    }
    for (const failure of failures)
      this.log.error(
        {
          address: failure.assignment.address,
          interface: failure.assignment.interface,
          err: failure.error,
        },
        failure.action === "add" ? "could not add the address" : "could not remove the address",
      );
    if (failures.length > 0) this.options.metrics?.reconcileErrors.inc();
    this.reporter.setCondition(
      "KernelReady",
      failures.length === 0,
      failures.length === 0 ? "Reconciled" : "AddressChangeFailed",
      failures.length === 0
        ? "kernel addresses match the announcements"
        : failures
            .map(
              (f) =>
                `${f.action} ${f.assignment.address}/${f.assignment.prefixLength} on ${f.assignment.interface}: ${f.error}`,
            )
            .join("; ") + " (retried on the next reconcile)",
    );
    return failed;
  }

  /**
   * The announcement effector: gratuitous ARP / NA for every local address this agent did
   * not announce before — not only those it just added: after a restart, or when it takes
   * back an address it never removed, the network may still send the traffic to the node
   * that held it meanwhile. Again when there is news that the neighbours may follow
   * another node: a node claimed the address after this one did, or the Service's
   * annotation (written only after that node's own announcement went out) turned to it.
   * Returns the addresses it started announcing and when each first round is out; stops
   * the repeats of those that left.
   */
  private announceNew(local: readonly AddressDecision[]): {
    added: AddressDecision[];
    firstRounds: Promise<unknown>[];
  } {
    const named = new Map(local.map((d) => [d.address, this.announcedElsewhere(d)]));
    // An address being handed over is never announced again here: the new holder's
    // announcement is the one the neighbours must follow.
    const added = local.filter((d) => {
      if (this.announced.get(d.address)?.mode !== "Local") return true;
      if (d.handingOverTo !== undefined || this.yielding.has(d.address)) return false;
      const now = named.get(d.address)!;
      const turned = now !== "" && now !== (this.namedElsewhere.get(d.address) ?? "");
      return (turned && !this.liveness.holdingOff(now)) || this.claimedAfterUs.has(d.address);
    });
    this.namedElsewhere.clear();
    for (const [address, node] of named) this.namedElsewhere.set(address, node);
    const firstRounds: Promise<unknown>[] = [];
    for (const decision of added) {
      const iface = decision.interface!;
      // Repeats stop when the address leaves this node (below) or the agent stops.
      const repeats = new AbortController();
      this.repeating.get(decision.address)?.abort();
      this.repeating.set(decision.address, repeats);
      const first = this.options.kernel.announce(
        iface,
        decision.address,
        this.settings.garp,
        repeats.signal,
      );
      firstRounds.push(first.catch(() => undefined));
      void first
        .then((announcement) => announcement.done)
        .then((result) => {
          this.options.metrics?.garpsSent.inc({ family: decision.family }, result.sent);
          if (result.error)
            this.log.warn(
              { address: decision.address, err: result.error },
              "announcement repeat failed",
            );
        })
        .catch((error: unknown) => {
          // Cancelled: the address left this node, or a newer announcement replaced it.
          if (!repeats.signal.aborted)
            this.log.warn({ err: String(error), address: decision.address }, "announcement failed");
        });
      this.options.metrics?.takeovers.inc({ family: decision.family });
      this.log.info({ address: decision.address, interface: iface }, "announcing");
    }
    // Repeats stop with the address, once it is being handed over, and once a node this
    // one holds off announces it too.
    const still = new Set(
      local.filter((d) => !d.handingOverTo && !this.yielding.has(d.address)).map((d) => d.address),
    );
    for (const [address, repeats] of this.repeating) {
      if (still.has(address)) continue;
      repeats.abort();
      this.repeating.delete(address);
    }
    return { added, firstRounds };
  }

  /**
   * What this agent now has on the kernel, for NodeState and the next pass. `since` stays
   * while an address keeps its mode here: the controller names the holder with the latest
   * one, so a node that died holding an address never outranks the one that took it.
   */
  private remember(
    local: readonly AddressDecision[],
    routed: readonly AddressDecision[],
    virtual: string | undefined,
    announcedNow: ReadonlySet<string>,
  ): void {
    const before = new Map(this.announced);
    const now = this.clock.now();
    // Announced again (another node had claimed it): from now, so that this node is the
    // latest holder in NodeState and the annotation.
    const since = (address: string, mode: AnnouncedHere["mode"]) => {
      const previous = before.get(address);
      return previous?.mode === mode && !announcedNow.has(address) ? previous.since : now;
    };
    this.announced.clear();
    for (const decision of local)
      this.announced.set(decision.address, {
        address: decision.address,
        interface: decision.interface!,
        services: decision.services,
        mode: "Local",
        since: since(decision.address, "Local"),
      });
    if (virtual === undefined) return;
    for (const decision of routed)
      this.announced.set(decision.address, {
        address: decision.address,
        interface: decision.draining ? DRAIN_INTERFACE : virtual,
        services: decision.services,
        mode: "Routed",
        since: since(decision.address, "Routed"),
      });
  }

  /**
   * Sets the ARP sysctls of an interface before its first address. A node where they
   * cannot be written (a read-only /proc/sys) still gets the address — without them other
   * interfaces may answer ARP for it too, which the condition says — and the agent tries
   * again with the next address on that interface.
   */
  private async prepare(iface: string): Promise<void> {
    try {
      const set = await this.options.kernel.ensureSysctls(iface);
      if (set.length > 0) this.log.info({ interface: iface, set }, "ARP sysctls set");
      this.preparedInterfaces.add(iface);
      this.sysctlProblems.delete(iface);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (this.sysctlProblems.get(iface) !== message)
        this.log.warn({ interface: iface, err: message }, "could not set the ARP sysctls");
      this.sysctlProblems.set(iface, message);
    }
    const problems = [...this.sysctlProblems].map(([name, text]) => `${name}: ${text}`);
    this.reporter.setCondition(
      "SysctlsSet",
      problems.length === 0,
      problems.length === 0 ? "Set" : "NotWritable",
      problems.length === 0
        ? "arp_ignore, arp_announce and ndisc_notify are set where the agent announces"
        : `${problems.join("; ")} — set them on the node (/etc/sysctl.d), or let the DaemonSet's init container agent-sysctls raise the "all" keys`,
    );
  }

  private async updateRouting(routed: readonly AddressDecision[]): Promise<void> {
    const object = this.nodes.get(this.options.nodeName);
    const info = object ? nodeInfo(object) : undefined;
    const { ipv4, ipv6 } = object ? nodeInternalAddresses(object) : {};
    const outcome = await this.routing.update(
      { name: this.options.nodeName, labels: info?.labels ?? {}, ipv4, ipv6 },
      this.settings,
      routed,
    );
    this.reporter.setCondition(
      "RoutingReady",
      outcome.problem === undefined,
      outcome.problem === undefined ? "Configured" : "ConfigRefused",
      outcome.problem ?? `routing ${this.settings.routing}`,
    );
    if (outcome.problem !== undefined)
      this.log.warn({ problem: outcome.problem }, "routing configuration kept as it was");
  }

  /**
   * The interface routed addresses go on (AgentConfig `virtualInterface`, kube-lb0): made
   * on first need, a dummy link or, where the kernel has no dummy driver, a bridge without
   * ports. undefined (and a condition) when it cannot be made.
   */
  private async virtualInterface(): Promise<string | undefined> {
    const name = this.settings.virtualInterface;
    if (this.virtualReady === name) return name;
    const result = await this.options.kernel.ensureVirtualInterface(name);
    if ("error" in result) {
      this.reporter.setCondition("KernelReady", false, "NoVirtualInterface", result.error);
      this.log.error({ interface: name, err: result.error }, "cannot make the virtual interface");
      return undefined;
    }
    if (result.created)
      this.log.info({ interface: name, kind: result.kind }, "virtual interface made");
    this.virtualReady = name;
    return name;
  }

  /** The other node the annotations of the address's Services name as its announcer, or "". */
  private announcedElsewhere(decision: AddressDecision): string {
    const key = ANNOUNCING_ANNOTATION[decision.family];
    for (const serviceKey of decision.services) {
      const { namespace, name } = splitKey(serviceKey);
      const value = this.services.get(name, namespace)?.metadata?.annotations?.[key];
      const node = value?.split(" ")[0];
      if (node && node !== this.options.nodeName) return node;
    }
    return "";
  }

  private async probeApi(): Promise<boolean> {
    const answer = this.raw.request("GET", "/version").then(
      () => true,
      (error: unknown) => error instanceof ApiError,
    );
    return within(
      this.clock,
      Math.max(200, this.settings.failureDetector.intervalMs * 3),
      answer,
      false,
    );
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
}
