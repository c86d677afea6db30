// The allocation controller: the allocator of DESIGN §4 driven by the cluster.
//
// Every replica watches Services, Namespaces and AddressPools; only the leader (Lease
// `herald-controller`) writes. On becoming leader it lists the Services afresh — its
// cache may lag the previous leader's last writes, and restoring from a stale cache could
// hand one address to two services — restores every held address, and only then assigns,
// one Service at a time through the work queue. Pool changes rebuild the allocator from
// what it holds, so nothing moves that need not.
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  type KubernetesObject,
  type V1Namespace,
  type V1Service,
} from "@kubernetes/client-node";
import { GROUP, VERSION } from "../api/addresspool.ts";
import { rfc3339, transitionTime } from "../api/meta.ts";
import type { NodeStateStatus } from "../api/nodestate.ts";
import {
  ALLOCATED_CONDITION,
  ALLOCATED_FROM_ANNOTATION,
  ANNOUNCING_ANNOTATION,
} from "../api/service.ts";
import type { Labels } from "../api/selector.ts";
import { formatAddress, parseAddress } from "../ip.ts";
import { Allocator, type Assignment } from "../ipam/allocator.ts";
import { PoolSet } from "../ipam/pool-set.ts";
import { poolStatus } from "../ipam/pool-status.ts";
import { readService } from "../ipam/request.ts";
import { makeApiClient } from "../kube/client.ts";
import { realClock, within, type Clock } from "../clock.ts";
import { RawEventSink } from "../kube/event-sink.ts";
import { EventRecorder } from "../kube/events.ts";
import { Informer } from "../kube/informer.ts";
import type { PooledKubeConfig } from "../kube/kubeconfig.ts";
import { LeaderElector } from "../kube/leader.ts";
import { DEFAULT_AGENT_KEY_SECRET, ensureAgentKey } from "./agent-key.ts";
import { KubeLeaseStore } from "../kube/lease-store.ts";
import { mergePatch } from "../kube/patch.ts";
import { RawClient } from "../kube/raw.ts";
import { TokenBucket } from "../kube/ratelimit.ts";
import { runWorkers, WorkQueue } from "../kube/workqueue.ts";
import type { Logger } from "../log.ts";
import type { ControllerMetrics } from "./metrics.ts";
import { PoolCatalog } from "../ipam/pool-catalog.ts";
import { statusChange } from "./service-status.ts";
import { AnnouncerIndex, annotationChanges } from "./announcing.ts";
import { PasswordCopier, type SecretData } from "./bgp-passwords.ts";

export interface ControllerOptions {
  config: PooledKubeConfig;
  /** Namespace of the Lease (the controller's own). */
  namespace: string;
  /** This replica's name in the Lease (the pod name). */
  identity: string;
  /** Serve only loadBalancerClass herald.dev/herald, not services without a class. */
  classOnly?: boolean;
  log: Logger;
  metrics?: ControllerMetrics;
  /** Services processed at once (default 8). */
  workers?: number;
  /** Client-side limit on API requests (default 2000/s, burst 4000). */
  qps?: number;
  burst?: number;
  /** How long stopping waits for queued Events (default 2 s). */
  eventFlushMs?: number;
  /** Separate limit for Events (default 50/s, burst 200). */
  eventQps?: number;
  eventBurst?: number;
  lease?: { durationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
  /** How long pool status writes wait to batch changes (default 500 ms). */
  poolStatusDelayMs?: number;
  /**
   * The agents' failure-detector key Secret in `namespace`, created when missing on
   * becoming leader (default herald-agent-key; "" to leave it to the operator).
   */
  agentKeySecret?: string;
  clock?: Clock;
}

interface AddressPoolObject extends KubernetesObject {
  spec?: unknown;
  status?: Record<string, unknown>;
}

interface NodeStateObject extends KubernetesObject {
  status?: NodeStateStatus;
}

export class AllocationController {
  private readonly options: ControllerOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  /** Plain JSON for the hot paths: the Service list and status patches. */
  private readonly raw: RawClient;
  private readonly services: Informer<V1Service>;
  private readonly namespaces: Informer<V1Namespace>;
  private readonly poolObjects: Informer<AddressPoolObject>;
  /** The agents' NodeStates: who announces what, for the announcing annotations. */
  private readonly nodeStates: Informer<NodeStateObject>;
  private readonly announcers = new AnnouncerIndex();
  /** BGPPeers and this namespace's Secrets: the passwords copied for the agents. */
  private readonly bgpPeers: Informer<{ metadata?: { name?: string }; spec?: unknown }>;
  private readonly secrets: Informer<SecretData>;
  private readonly passwords: PasswordCopier;
  private readonly catalog = new PoolCatalog();
  private readonly events: EventRecorder;
  private readonly elector: LeaderElector;
  /** Set while leading: the allocator, the queue, the services waiting for an address. */
  private leading:
    | {
        allocator: Allocator;
        pools: PoolSet;
        queue: WorkQueue<string>;
        waiting: Set<string>;
        /** Resolves when every worker has stopped (after the queue is shut down). */
        workers: Promise<void>;
      }
    | undefined;
  private leaderReady = false;
  /**
   * Services whose held addresses a restore gave up (pool shrunk or gone, on start or on a
   * pool change): what they held and why, for the events of their next sync.
   */
  private readonly moved = new Map<string, { before: Assignment[]; givenUp: readonly string[] }>();
  private poolStatusTimer: ReturnType<Clock["setTimeout"]> | undefined;
  /** Resolves once the previous term's writes have finished (see stopLeading). */
  private draining: Promise<void> = Promise.resolve();
  /** The pool status write in flight, if any (awaited before handing over the lease). */
  private poolStatusWrite: Promise<void> = Promise.resolve();
  /** Pools whose status write failed: how often in a row, and when to try again. */
  private readonly poolStatusBackoff = new Map<string, { failures: number; retryAt: number }>();
  private rebuildScheduled = false;

  constructor(options: ControllerOptions) {
    this.options = options;
    this.clock = options.clock ?? realClock;
    this.log = options.log;
    const limiter = new TokenBucket(options.qps ?? 2000, options.burst ?? 4000, this.clock);
    // Events are best effort and must not hold up status writes: they get their own,
    // lower limit, and a burst beyond it is dropped by the recorder (as client-go does).
    const eventLimiter = new TokenBucket(
      options.eventQps ?? 50,
      options.eventBurst ?? 200,
      this.clock,
    );
    this.core = makeApiClient(options.config, CoreV1Api, {
      limiter,
      userAgent: "herald-controller",
    });
    this.custom = makeApiClient(options.config, CustomObjectsApi, {
      limiter,
      userAgent: "herald-controller",
    });
    const coordination = makeApiClient(options.config, CoordinationV1Api, {
      userAgent: "herald-controller",
    });

    this.raw = new RawClient(options.config, limiter);
    this.services = new Informer<V1Service>({
      config: options.config,
      path: "/api/v1/services",
      list: (o) => this.raw.list<V1Service>("/api/v1/services", o),
      log: this.log,
    });
    this.namespaces = new Informer<V1Namespace>({
      config: options.config,
      path: "/api/v1/namespaces",
      list: (o) => this.core.listNamespace(o),
      log: this.log,
    });
    this.poolObjects = new Informer<AddressPoolObject>({
      config: options.config,
      path: `/apis/${GROUP}/${VERSION}/addresspools`,
      list: (o) =>
        this.custom.listClusterCustomObject({
          group: GROUP,
          version: VERSION,
          plural: "addresspools",
          ...o,
        }) as Promise<{
          items: AddressPoolObject[];
          metadata?: { resourceVersion?: string; _continue?: string };
        }>,
      log: this.log,
    });
    this.nodeStates = new Informer<NodeStateObject>({
      config: options.config,
      path: `/apis/${GROUP}/${VERSION}/nodestates`,
      list: (o) => this.raw.list<NodeStateObject>(`/apis/${GROUP}/${VERSION}/nodestates`, o),
      log: this.log,
    });
    const bgpPeersPath = `/apis/${GROUP}/${VERSION}/bgppeers`;
    this.bgpPeers = new Informer({
      config: options.config,
      path: bgpPeersPath,
      list: (o) => this.raw.list(bgpPeersPath, o),
      log: this.log,
    });
    const secretsPath = `/api/v1/namespaces/${encodeURIComponent(options.namespace)}/secrets`;
    this.secrets = new Informer<SecretData>({
      config: options.config,
      path: secretsPath,
      list: (o) => this.raw.list<SecretData>(secretsPath, o),
      log: this.log,
    });
    this.events = new EventRecorder({
      sink: new RawEventSink(new RawClient(options.config, eventLimiter)),
      clock: this.clock,
      component: "controller",
      instance: options.identity,
      log: this.log,
    });
    this.elector = new LeaderElector({
      identity: options.identity,
      store: new KubeLeaseStore(coordination, options.namespace, "herald-controller"),
      clock: this.clock,
      leaseDurationMs: options.lease?.durationMs,
      renewDeadlineMs: options.lease?.renewDeadlineMs,
      retryPeriodMs: options.lease?.retryPeriodMs,
      onStartedLeading: (signal) => void this.lead(signal),
      onStoppedLeading: () => void this.stopLeading(),
      onNewLeader: (identity) => this.log.info({ leader: identity }, "leader observed"),
      log: this.log,
    });
    this.passwords = new PasswordCopier({
      namespace: options.namespace,
      peers: this.bgpPeers,
      secrets: this.secrets,
      raw: this.raw,
      events: this.events,
      clock: this.clock,
      log: this.log,
    });
    this.wireInformers();
  }

  /** Informers every replica keeps, leading or not: a new leader starts from warm caches. */
  private get standingInformers(): Informer<KubernetesObject>[] {
    return [
      this.namespaces,
      this.poolObjects,
      this.nodeStates,
      this.bgpPeers,
      this.secrets,
    ] as Informer<KubernetesObject>[];
  }

  /** Runs until `signal` aborts; then releases the lease and stops. */
  async run(signal: AbortSignal): Promise<void> {
    for (const informer of this.standingInformers) informer.start();
    const electing = new AbortController();
    const elected = this.elector.run(electing.signal);
    // Services are first listed once the first try for the Lease is over. A replica that
    // wins it at once then lists them once — lead() starts the informer, whose first list
    // is the fresh one a new leader needs — rather than a second time right after the
    // first (half a second of a restart with 10k Services). A standby, or a Lease that
    // takes long to answer, starts it here.
    void Promise.race([this.elector.tried, this.clock.sleep(2000, signal)]).then(() => {
      if (!signal.aborted && !this.elector.isLeader()) this.services.start();
    });
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
    // A Lease cannot fence writes: the standby takes over the moment it is released and
    // lists Services without writes still in flight, so it would hand their addresses out
    // again. Stop taking work and finish what is in flight first, then release.
    await this.stopLeading();
    electing.abort();
    await elected;
    for (const informer of [this.services, ...this.standingInformers]) informer.stop();
    // Events are best effort: give the queued ones a moment, not the pod's whole grace period.
    await within(this.clock, this.options.eventFlushMs ?? 2000, this.events.flush(), undefined);
  }

  isLeader(): boolean {
    return this.elector.isLeader();
  }

  /** Caches synced, and if leading, every held address restored. */
  isReady(): boolean {
    const synced =
      this.services.isSynced() &&
      this.namespaces.isSynced() &&
      this.poolObjects.isSynced() &&
      this.nodeStates.isSynced();
    return synced && (!this.elector.isLeader() || this.leaderReady);
  }

  // ---- leading ----

  private async lead(signal: AbortSignal): Promise<void> {
    // Best effort and off the allocation path: agents fall back to Node status without it.
    if (this.options.agentKeySecret !== "")
      void ensureAgentKey(
        this.raw,
        this.options.namespace,
        this.options.agentKeySecret ?? DEFAULT_AGENT_KEY_SECRET,
        this.log,
      );
    this.passwords.setLeading(true);
    // Writes of a term this replica lost may still be in flight; the list below must see them.
    await this.draining;
    const started = this.clock.now();
    // A fresh list, taken through the informer so that restoring and every later sync see
    // one view that only moves forward: the previous leader's last writes are in it, and
    // a service the list has cannot look deleted to a cache that lags it.
    let fresh: V1Service[] | undefined;
    for (let attempt = 0; fresh === undefined; attempt++) {
      try {
        const listed = this.services.relist();
        this.services.start();
        await Promise.all([
          listed,
          this.namespaces.synced,
          this.poolObjects.synced,
          this.nodeStates.synced,
        ]);
        fresh = this.services.list();
      } catch (error) {
        const retryInMs = Math.min(30_000, 500 * 2 ** attempt);
        this.log.warn(
          { err: String(error), retryInMs },
          "could not list services on becoming leader",
        );
        if (!(await this.clock.sleep(retryInMs, signal))) return;
      }
      if (signal.aborted) return;
    }
    const queue = new WorkQueue<string>({
      clock: this.clock,
      metrics: this.options.metrics?.queue(),
    });
    const view = this.catalog.update(this.poolObjects.list());
    const pools = new PoolSet(view.pools);
    const allocator = new Allocator(pools, (namespace) => this.namespaceLabels(namespace));
    this.moved.clear();
    for (const service of fresh) {
      const request = readService(service, { classOnly: this.options.classOnly });
      if (request.ignored !== undefined || request.held.length === 0) continue;
      const outcome = allocator.restore(request);
      if (outcome.givenUp.length > 0) {
        const before = request.held.map((address) => ({
          family: address.family,
          address: formatAddress(address),
          pool: "",
        }));
        this.moved.set(request.key, { before, givenUp: outcome.givenUp });
      }
    }
    const workers = runWorkers(queue, this.options.workers ?? 8, (key) => this.sync(key), {
      log: this.log,
    });
    this.leading = { allocator, pools, queue, waiting: new Set(), workers };
    this.leaderReady = true;
    this.options.metrics?.leader.set(1);
    this.log.info(
      {
        services: fresh.length,
        pools: view.pools.length,
        ms: this.clock.now() - started,
      },
      "leading: held addresses restored",
    );
    for (const service of fresh) queue.add(keyOf(service));
    this.schedulePoolStatus();
    signal.addEventListener("abort", () => queue.shutDown(), { once: true });
    await workers;
  }

  /** Stops assigning; resolves once the writes in flight have finished. */
  private stopLeading(): Promise<void> {
    this.passwords.setLeading(false);
    if (!this.leading) return this.draining;
    this.draining = this.drain();
    return this.draining;
  }

  private async drain(): Promise<void> {
    if (!this.leading) return;
    const { queue, workers } = this.leading;
    queue.shutDown();
    this.leading = undefined;
    this.leaderReady = false;
    this.options.metrics?.leader.set(0);
    if (this.poolStatusTimer) this.clock.clearTimeout(this.poolStatusTimer);
    this.poolStatusTimer = undefined;
    await workers;
    await this.poolStatusWrite;
  }

  // ---- one service ----

  private async sync(key: string): Promise<void> {
    const leading = this.leading;
    if (!leading) return;
    const [namespace, name] = splitKey(key);
    const service = this.services.get(name, namespace);
    const moved = this.moved.get(key);
    this.moved.delete(key);
    const before = moved?.before ?? leading.allocator.holdings(key);
    if (!service) {
      leading.waiting.delete(key);
      if (leading.allocator.release(key).length > 0) this.addressesFreed();
      return;
    }
    const request = readService(service, { classOnly: this.options.classOnly });
    const assigned = leading.allocator.assign(request);
    const outcome = moved
      ? { ...assigned, givenUp: [...moved.givenUp, ...assigned.givenUp] }
      : assigned;
    if (outcome.failure || outcome.assignments.length < request.families.length) {
      if (request.ignored === undefined) leading.waiting.add(key);
    } else {
      leading.waiting.delete(key);
    }
    if (request.ignored !== undefined) leading.waiting.delete(key);
    this.options.metrics?.waiting.set(leading.waiting.size);
    const change = statusChange(service, request, outcome, before, rfc3339(this.clock.now()));
    const announcing = annotationChanges(
      service.metadata?.annotations,
      this.announcers.annotations(
        key,
        outcome.assignments.map((a) => a.address),
      ),
    );
    if (announcing) {
      // Rides on the status write (metadata sent to a core kind's status is kept).
      const patch = change.patch ?? {};
      const metadata = (patch.metadata ?? {}) as { annotations?: Record<string, unknown> };
      patch.metadata = { ...metadata, annotations: { ...metadata.annotations, ...announcing } };
      change.patch = patch;
    }
    if (change.patch) {
      try {
        await this.raw.write(
          "PATCH",
          `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(name)}/status`,
          change.patch,
          PatchStrategy.MergePatch,
        );
      } catch (error) {
        // A service deleted meanwhile is released when its deletion arrives.
        if ((error as { code?: number }).code === 404) return;
        throw error;
      }
    }
    const reference = {
      apiVersion: "v1",
      kind: "Service",
      namespace,
      name,
      uid: service.metadata?.uid,
    };
    for (const event of change.events)
      this.events.event(reference, event.type, event.reason, event.message);
    for (const assignment of outcome.assignments) {
      if (!before.some((a) => a.address === assignment.address))
        this.options.metrics?.allocations.inc({ pool: assignment.pool });
    }
    if (outcome.failure && change.patch)
      this.options.metrics?.failures.inc({ reason: outcome.failure.reason });
    const kept = new Set(outcome.assignments.map((a) => a.address));
    if (before.some((a: Assignment) => !kept.has(a.address))) this.addressesFreed();
    if (change.patch) this.schedulePoolStatus();
  }

  /** An address came free: every waiting service gets another try. */
  private addressesFreed(): void {
    if (!this.leading) return;
    for (const key of this.leading.waiting) this.leading.queue.add(key);
    this.schedulePoolStatus();
  }

  // ---- pools ----

  /** Pools changed: a new allocator restores what the old one held, then all is re-assigned. */
  private rebuild(): void {
    const leading = this.leading;
    if (!leading) return;
    const view = this.catalog.update(this.poolObjects.list());
    const pools = new PoolSet(view.pools);
    const allocator = new Allocator(pools, (namespace) => this.namespaceLabels(namespace));
    for (const service of this.services.list()) {
      const request = readService(service, { classOnly: this.options.classOnly });
      if (request.ignored !== undefined) continue;
      const key = keyOf(service);
      // Only what the old allocator holds: it is newer than the cache (writes in flight),
      // and the cache may still show addresses of services it has already released.
      const held = leading.allocator.holdings(key);
      if (held.length === 0) continue;
      const outcome = allocator.restore({
        ...request,
        held: held.map((a) => parseAddress(a.address)!),
      });
      if (outcome.givenUp.length > 0)
        this.moved.set(key, { before: held, givenUp: outcome.givenUp });
    }
    Object.assign(leading, { allocator, pools });
    for (const service of this.services.list()) leading.queue.add(keyOf(service));
    this.schedulePoolStatus();
  }

  private schedulePoolStatus(delayMs = this.options.poolStatusDelayMs ?? 500): void {
    if (!this.leading || this.poolStatusTimer) return;
    this.poolStatusTimer = this.clock.setTimeout(() => {
      this.poolStatusTimer = undefined;
      this.poolStatusWrite = this.writePoolStatus();
    }, delayMs);
  }

  private async writePoolStatus(): Promise<void> {
    const leading = this.leading;
    if (!leading) return;
    const now = this.clock.now();
    let nextRetryAt = Infinity;
    for (const pool of leading.pools.pools) {
      const backoff = this.poolStatusBackoff.get(pool.name);
      if (backoff && backoff.retryAt > now) {
        nextRetryAt = Math.min(nextRetryAt, backoff.retryAt);
        continue;
      }
      const status = poolStatus(pool, leading.pools, leading.allocator.allocated(pool.name));
      const object = this.poolObjects.get(pool.name);
      if (!object) continue;
      const desired = { ...status, observedGeneration: object.metadata?.generation };
      for (const family of ["ipv4", "ipv6"] as const) {
        const label = family === "ipv4" ? "IPv4" : "IPv6";
        for (const state of ["capacity", "allocated", "available"] as const) {
          this.options.metrics?.poolAddresses.set(
            { pool: pool.name, family: label, state },
            Number(status[state][family]),
          );
        }
      }
      if (samePoolStatus(object.status, desired)) continue;
      const conditions = desired.conditions.map((condition) => {
        const previous = (
          object.status?.conditions as
            { type: string; status: string; lastTransitionTime?: string }[] | undefined
        )?.find((c) => c.type === condition.type);
        return {
          ...condition,
          observedGeneration: object.metadata?.generation,
          lastTransitionTime: transitionTime(previous, condition.status, this.clock.now()),
        };
      });
      try {
        await this.custom.patchClusterCustomObjectStatus(
          {
            group: GROUP,
            version: VERSION,
            plural: "addresspools",
            name: pool.name,
            body: { status: { ...desired, conditions } },
          },
          mergePatch,
        );
        this.poolStatusBackoff.delete(pool.name);
      } catch (error) {
        // Backed off per pool as the work queue backs off a Service: a pool whose status
        // the server keeps refusing must not cost it a write every half second.
        const failures = (backoff?.failures ?? 0) + 1;
        const retryInMs = Math.min(30_000, 500 * 2 ** (failures - 1));
        this.poolStatusBackoff.set(pool.name, { failures, retryAt: now + retryInMs });
        nextRetryAt = Math.min(nextRetryAt, now + retryInMs);
        this.log.warn(
          { pool: pool.name, err: String(error), retryInMs },
          "could not write pool status; retrying",
        );
      }
    }
    if (nextRetryAt !== Infinity)
      this.schedulePoolStatus(Math.max(0, nextRetryAt - this.clock.now()));
  }

  // ---- informers ----

  private wireInformers(): void {
    const enqueue = (service: V1Service) => this.leading?.queue.add(keyOf(service));
    this.services.on("add", enqueue);
    this.services.on("update", (service, old) => {
      if (!this.isOwnEcho(service, old)) enqueue(service);
    });
    this.services.on("delete", enqueue);
    const poolsChanged = () => {
      if (this.rebuildScheduled) return;
      this.rebuildScheduled = true;
      queueMicrotask(() => {
        this.rebuildScheduled = false;
        this.rebuild();
      });
    };
    this.poolObjects.on("add", poolsChanged);
    this.poolObjects.on("update", (pool, old) => {
      // Status writes (ours) do not change what the allocator needs.
      if (
        JSON.stringify(pool.spec) !== JSON.stringify(old?.spec) ||
        pool.metadata?.creationTimestamp !== old?.metadata?.creationTimestamp
      ) {
        poolsChanged();
      }
    });
    this.poolObjects.on("delete", poolsChanged);
    // Namespace labels decide namespaceSelector scopes; a change re-assigns its services.
    const namespaceChanged = (namespace: V1Namespace, old: V1Namespace | undefined) => {
      if (JSON.stringify(namespace.metadata?.labels) === JSON.stringify(old?.metadata?.labels))
        return;
      for (const service of this.services.list()) {
        if (service.metadata?.namespace === namespace.metadata?.name)
          this.leading?.queue.add(keyOf(service));
      }
    };
    this.namespaces.on("add", (namespace) => namespaceChanged(namespace, undefined));
    this.namespaces.on("update", namespaceChanged);
    // An agent's announcements changed: the services they name get their annotations.
    const announcementsChanged = (state: NodeStateObject, gone = false) => {
      const node = state.metadata?.name;
      if (node === undefined) return;
      const affected = this.announcers.set(node, gone ? [] : (state.status?.announced ?? []));
      for (const key of affected) this.leading?.queue.add(key);
    };
    this.nodeStates.on("add", (state) => announcementsChanged(state));
    this.nodeStates.on("update", (state) => announcementsChanged(state));
    this.nodeStates.on("delete", (state) => announcementsChanged(state, true));
  }

  /**
   * Whether an update is only the echo of this controller's own status write: nothing the
   * allocator reads changed, and the Service now shows what the allocator holds. Skipping
   * it halves the work of a burst.
   */
  private isOwnEcho(service: V1Service, old: V1Service | undefined): boolean {
    const leading = this.leading;
    if (!leading || !old) return false;
    const inputs = (s: V1Service) => {
      const {
        [ALLOCATED_FROM_ANNOTATION]: _pools,
        [ANNOUNCING_ANNOTATION.IPv4]: _ipv4,
        [ANNOUNCING_ANNOTATION.IPv6]: _ipv6,
        ...annotations
      } = s.metadata?.annotations ?? {};
      return JSON.stringify([s.spec, s.metadata?.labels, annotations]);
    };
    if (inputs(service) !== inputs(old)) return false;
    const shown = (service.status?.loadBalancer?.ingress ?? []).map((entry) => entry.ip);
    const held = leading.allocator.holdings(keyOf(service)).map((a) => a.address);
    const conditionShown = service.status?.conditions?.some((c) => c.type === ALLOCATED_CONDITION);
    return (
      conditionShown === true &&
      JSON.stringify(shown) === JSON.stringify(held) &&
      annotationChanges(
        service.metadata?.annotations,
        this.announcers.annotations(keyOf(service), held),
      ) === undefined
    );
  }

  private namespaceLabels(namespace: string): Labels {
    return {
      ...this.namespaces.get(namespace)?.metadata?.labels,
      "kubernetes.io/metadata.name": namespace,
    };
  }
}

function keyOf(object: KubernetesObject): string {
  return `${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
}

function splitKey(key: string): [string, string] {
  const slash = key.indexOf("/");
  return [key.slice(0, slash), key.slice(slash + 1)];
}

/** Whether a pool's written status already says what `desired` says (ignoring times). */
function samePoolStatus(
  current: Record<string, unknown> | undefined,
  desired: ReturnType<typeof poolStatus> & { observedGeneration?: number },
): boolean {
  if (!current) return false;
  const strip = (conditions: unknown) =>
    (
      (conditions as
        { type: string; status: string; reason: string; message: string }[] | undefined) ?? []
    ).map(({ type, status, reason, message }) => ({ type, status, reason, message }));
  return (
    JSON.stringify([
      current.capacity,
      current.allocated,
      current.available,
      current.observedGeneration,
      strip(current.conditions),
    ]) ===
    JSON.stringify([
      desired.capacity,
      desired.allocated,
      desired.available,
      desired.observedGeneration,
      strip(desired.conditions),
    ])
  );
}
