// What the agent tells the API: `NotAnnounced` and configuration events (written by one
// agent only), the node's NodeState with its conditions, and the restart mark. It writes
// nothing on Services: the controller turns the NodeStates' announcements into the
// `herald.dev/announcing-*` annotations, so an agent needs no right to patch a Service. Off the reconcile path and coalesced: the agent hands
// over a snapshot after each reconcile, and only the latest is written once the previous
// round is done, so a slow or unreachable API server never delays a takeover.
import { RestartMarks } from "./peer-liveness.ts";
import { load as loadYaml, CORE_SCHEMA } from "js-yaml";
import { API_VERSION, GROUP, VERSION } from "../api/addresspool.ts";
import { rfc3339, transitionTime, type Condition } from "../api/meta.ts";
import {
  LEAVING_ANNOTATION,
  RESTARTING_ANNOTATION,
  type AnnouncedAddress,
  type BGPSessionStatus,
  type NodeInterface,
  type NodeStateStatus,
} from "../api/nodestate.ts";
import { splitKey, type ServiceObject } from "../api/service.ts";
import type { ConfigMapObject, NodeObject, NodeStateObject, PoolObject } from "./cluster-view.ts";
import { within, type Clock } from "../clock.ts";
import type { EventRecorder, InvolvedObject } from "../kube/events.ts";
import type { Informer } from "../kube/informer.ts";
import { ApiError, type RawClient } from "../kube/raw.ts";
import type { Logger } from "../log.ts";
import type { AddressDecision } from "./announcements.ts";
import type { KernelInterface } from "./kernel/interfaces.ts";
import { ipvsStrictArpProblem } from "./kube-proxy.ts";
import { regexProblems, subnetsOf } from "./placement.ts";

const RESTART_GRACE_MS = 10_000;

/** Recorded in managedFields, so `kubectl get -o yaml` shows which writes are the agent's. */
export const FIELD_MANAGER = "herald-agent";

export interface AnnouncedHere {
  address: string;
  interface: string;
  services: string[];
  mode: "Local" | "Routed";
  /** When this agent started announcing it (ms). */
  since: number;
}

/** What one reconcile found and did, and what the agent's watchers saw since. */
export interface Snapshot {
  decisions: AddressDecision[];
  /** What this node's kernel holds on the agent's behalf. */
  announced: AnnouncedHere[];
  interfaces: KernelInterface[];
  detector:
    | {
        view(): { members: string[]; suspects: string[]; dead: string[] };
        stats(): {
          dropped: {
            unauthenticated: number;
            replayed: number;
            stale: number;
            misdirected: number;
          };
        };
      }
    | undefined;
  /** When forged or replayed heartbeats were last seen. */
  dropsSeenAt: number | undefined;
  sessions: BGPSessionStatus[];
}

export interface ReporterOptions {
  nodeName: string;
  raw: RawClient;
  events: EventRecorder;
  clock: Clock;
  log: Logger;
  services: Informer<ServiceObject>;
  pools: Informer<PoolObject>;
  nodes: Informer<NodeObject>;
  nodeStates: Informer<NodeStateObject>;
  kubeProxy: Informer<ConfigMapObject>;
  /** Whether this agent is the one that reports a cluster-wide `topic`. */
  isReporter: (topic: string) => boolean;
}

export class Reporter {
  private readonly nodeName: string;
  private readonly raw: RawClient;
  private readonly events: EventRecorder;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly services: Informer<ServiceObject>;
  private readonly pools: Informer<PoolObject>;
  private readonly nodes: Informer<NodeObject>;
  private readonly nodeStates: Informer<NodeStateObject>;
  private readonly restartMarks = new RestartMarks();
  private readonly kubeProxy: Informer<ConfigMapObject>;
  private readonly isReporter: (topic: string) => boolean;
  private snapshot: Snapshot = {
    decisions: [],
    announced: [],
    interfaces: [],
    detector: undefined,
    dropsSeenAt: undefined,
    sessions: [],
  };
  private pendingPublish: Snapshot | undefined;
  /** publish() has run: the snapshot is a reconcile's, not the empty one above. */
  private published = false;
  private publishing = false;
  /** address (or "pool/NAME") -> problem last reported as an event, so each is reported once. */
  private readonly reported = new Map<string, string>();
  private readonly conditions = new Map<string, Condition>();
  private lastNodeState = "";
  private strictArpProblem: string | undefined;
  /**
   * Set by markRestarting and markLeaving, before their patch: this agent is on its way
   * out and must not clear its own mark — a publish still queued, or one a reconcile
   * makes on seeing the mark arrive, would otherwise remove it at once, and peers would
   * take the addresses of a node that is only restarting.
   */
  private stopping = false;

  constructor(options: ReporterOptions) {
    this.nodeName = options.nodeName;
    this.raw = options.raw;
    this.events = options.events;
    this.clock = options.clock;
    this.log = options.log;
    this.services = options.services;
    this.pools = options.pools;
    this.nodes = options.nodes;
    this.nodeStates = options.nodeStates;
    this.kubeProxy = options.kubeProxy;
    this.isReporter = options.isReporter;
  }

  /** The NodeState of the agent's start: its interfaces, before it decides anything. */
  async publishInterfaces(interfaces: KernelInterface[]): Promise<void> {
    this.snapshot = { ...this.snapshot, interfaces };
    await this.writeNodeState();
  }

  /**
   * Tells the API what the kernel now holds: problems, NodeState. Off the
   * reconcile path — a slow or unreachable API server must never delay a takeover — and
   * coalesced: only the latest decisions are published once the previous round is done.
   */
  publish(snapshot: Snapshot): void {
    this.published = true;
    this.#enqueue(snapshot);
  }

  /**
   * Publishes a change that decides nothing (BGP sessions, dropped heartbeats) on top of
   * the last reconcile's snapshot: no kernel read, no new election.
   */
  update(changes: Partial<Pick<Snapshot, "sessions" | "dropsSeenAt">>): void {
    // Before the first reconcile there is nothing to add to: an empty NodeState would say
    // this node holds nothing, and clear a restart mark while its detector still warms up.
    // The first publish carries the sessions and drops as they are by then.
    if (!this.published) return;
    this.#enqueue({ ...(this.pendingPublish ?? this.snapshot), ...changes });
  }

  #enqueue(snapshot: Snapshot): void {
    const idle = this.pendingPublish === undefined;
    this.pendingPublish = snapshot;
    if (!idle || this.publishing) return;
    this.publishing = true;
    void (async () => {
      while (this.pendingPublish !== undefined) {
        this.snapshot = this.pendingPublish;
        this.pendingPublish = undefined;
        try {
          this.reportProblems(this.snapshot.decisions);
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

  /**
   * A stopping agent (SIGTERM: a rolling update, a restart) leaves its addresses on the
   * kernel and tells its peers, through its NodeState, not to take them while it restarts.
   * Without this, peers would see its heartbeats stop and take over, and open connections
   * would be reset twice: once when they take over and once when it takes back. The next
   * agent removes the mark once it announces again; a node that never comes back loses
   * its addresses when the mark expires.
   */
  async markRestarting(): Promise<void> {
    this.stopping = true;
    const until = new Date(this.clock.now() + RESTART_GRACE_MS).toISOString();
    try {
      await within(
        this.clock,
        1000,
        this.raw.request(
          "PATCH",
          `/apis/${GROUP}/${VERSION}/nodestates/${this.nodeName}?fieldManager=${FIELD_MANAGER}`,
          { metadata: { annotations: { [RESTARTING_ANNOTATION]: until } } },
          "application/merge-patch+json",
        ),
        undefined,
      );
      this.log.info({ until }, "stopping: peers keep this node's addresses here until then");
    } catch (error) {
      this.log.warn({ err: String(error) }, "could not mark this node as restarting");
    }
  }

  /**
   * The agent stops on a node that is going away: peers take its addresses over now
   * rather than wait for a restart. Like the restart mark, bounded to a second.
   */
  async markLeaving(reason: string): Promise<void> {
    this.stopping = true;
    try {
      await within(
        this.clock,
        1000,
        this.raw.request(
          "PATCH",
          `/apis/${GROUP}/${VERSION}/nodestates/${this.nodeName}?fieldManager=${FIELD_MANAGER}`,
          {
            metadata: {
              annotations: { [LEAVING_ANNOTATION]: reason, [RESTARTING_ANNOTATION]: null },
            },
          },
          "application/merge-patch+json",
        ),
        undefined,
      );
    } catch (error) {
      this.log.warn({ err: String(error) }, "could not mark this node as leaving");
    }
  }

  /**
   * Once this agent announces again, the marks its predecessor left (restarting, leaving)
   * have done their job.
   */
  private async clearRestarting(): Promise<void> {
    if (this.stopping) return;
    const annotations = this.nodeStates.get(this.nodeName)?.metadata?.annotations ?? {};
    const marks = [RESTARTING_ANNOTATION, LEAVING_ANNOTATION].filter(
      (key) => annotations[key] !== undefined,
    );
    if (marks.length === 0) return;
    await this.raw.request(
      "PATCH",
      `/apis/${GROUP}/${VERSION}/nodestates/${this.nodeName}?fieldManager=${FIELD_MANAGER}`,
      { metadata: { annotations: Object.fromEntries(marks.map((key) => [key, null])) } },
      "application/merge-patch+json",
    );
    this.log.info({ marks }, "announcing again: marks removed");
  }

  /** A peer that said it is restarting, until when (ms), if that is still ahead. */
  restartingUntil(node: string): number | undefined {
    const state = this.nodeStates.get(node);
    const value = state?.metadata?.annotations?.[RESTARTING_ANNOTATION];
    return this.restartMarks.until(node, value, this.clock.now());
  }

  private reportProblems(decisions: readonly AddressDecision[]): void {
    const seen = new Set<string>();
    for (const decision of decisions) {
      seen.add(decision.address);
      if (decision.problem === undefined || decision.reporter !== this.nodeName) {
        this.reported.delete(decision.address);
        continue;
      }
      if (this.reported.get(decision.address) === decision.problem) continue;
      this.reported.set(decision.address, decision.problem);
      // Waiting for endpoints is normal life (a rollout); a placement problem needs a human.
      const warning = decision.problem !== "no serving endpoint";
      for (const serviceKey of decision.services) {
        const { namespace, name } = splitKey(serviceKey);
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
      const regexes = object.spec?.interfaces;
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
        { apiVersion: "v1", kind: "Node", name: this.nodeName },
        "StrictARPDisabled",
        problem,
      );
      this.log.warn({ problem }, "kube-proxy would answer ARP for load-balancer addresses");
    }
    this.strictArpProblem = problem;
  }

  setCondition(type: string, ok: boolean, reason: string, message: string): void {
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
      lastTransitionTime: transitionTime(previous, status, this.clock.now()),
    });
  }

  private nodeStateStatus(): NodeStateStatus {
    const detector = this.snapshot.detector;
    if (detector) {
      // Forged or replayed heartbeats mark the detector unhealthy for ten minutes after the
      // last one: long enough to be seen, short enough to clear once the sender is gone.
      const dropped = detector.stats().dropped;
      const recent =
        this.snapshot.dropsSeenAt !== undefined &&
        this.clock.now() - this.snapshot.dropsSeenAt < 600_000;
      this.setCondition(
        "DetectorHealthy",
        !recent,
        recent ? "DroppedPackets" : "Running",
        recent
          ? `dropped ${dropped.unauthenticated} unauthenticated, ${dropped.replayed} replayed, ` +
              `${dropped.stale} stale and ${dropped.misdirected} misdirected heartbeats since the ` +
              "agent started (wrong key, clocks more than 30 s apart, or someone else sending)"
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
    const announced: AnnouncedAddress[] = this.snapshot.announced.map((a) => ({
      address: a.address,
      services: a.services,
      mode: a.mode,
      interface: a.interface,
      since: new Date(a.since).toISOString(),
    }));
    const interfaces: NodeInterface[] = subnetsOf(this.snapshot.interfaces);
    const sessions = this.snapshot.sessions;
    const down = sessions.filter((s) => s.state !== "Established");
    this.setCondition(
      "BGPSessionsEstablished",
      down.length === 0,
      down.length === 0 ? (sessions.length === 0 ? "NoPeers" : "AllEstablished") : "SessionDown",
      down.length === 0
        ? `${sessions.length} BGP session${sessions.length === 1 ? "" : "s"} established`
        : down
            .map((s) => `${s.peer}: ${s.state}${s.lastError ? ` (${s.lastError})` : ""}`)
            .join("; "),
    );
    return {
      announced,
      interfaces,
      bgpSessions: sessions,
      detector: view,
      counts: {
        local: announced.filter((a) => a.mode === "Local").length,
        routed: announced.filter((a) => a.mode === "Routed").length,
        sessionsEstablished: sessions.filter((s) => s.state === "Established").length,
        sessions: sessions.length,
        suspects: view.suspects.length,
        dead: view.dead.length,
      },
      conditions: [...this.conditions.values()].sort((a, b) => (a.type < b.type ? -1 : 1)),
    };
  }

  /** Writes NodeState when what it says changed (never just to refresh a timestamp). */
  async writeNodeState(): Promise<void> {
    const status = this.nodeStateStatus();
    const text = JSON.stringify(status);
    if (text === this.lastNodeState) return;
    const name = this.nodeName;
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
            updateTime: rfc3339(this.clock.now()),
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
