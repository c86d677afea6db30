// The agent's Prometheus metrics, in a registry of its own (tests run several agents in one
// process). Detector figures are read when scraped, not copied on every packet.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { DetectorStats } from "./detector/detector.ts";

export interface DetectorGauges {
  view(): { members: string[]; suspects: string[]; dead: string[] };
  stats(): DetectorStats;
}

export class AgentMetrics {
  readonly registry = new Registry();
  readonly announced = new Gauge({
    name: "herald_agent_announced_addresses",
    help: "Addresses this node announces, by mode and family",
    labelNames: ["mode", "family"] as const,
    registers: [this.registry],
  });
  readonly takeovers = new Counter({
    name: "herald_agent_takeovers_total",
    help: "Local addresses this node started announcing",
    labelNames: ["family"] as const,
    registers: [this.registry],
  });
  readonly withdrawals = new Counter({
    name: "herald_agent_withdrawals_total",
    help: "Addresses this node stopped announcing",
    labelNames: ["family"] as const,
    registers: [this.registry],
  });
  readonly garpsSent = new Counter({
    name: "herald_agent_garp_sent_total",
    help: "Gratuitous ARPs (IPv4) and unsolicited neighbour advertisements (IPv6) sent",
    labelNames: ["family"] as const,
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: "herald_agent_reconcile_errors_total",
    help: "Kernel reconciliations that failed (retried on the next change or resync)",
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: "herald_agent_reconcile_duration_seconds",
    help: "Time to read the kernel, decide and apply the changes",
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  /** 1 per BGP session, labelled with its BGPPeer and RFC 4271 state (see setSessions). */
  readonly bgpSessions = new Gauge({
    name: "herald_agent_bgp_sessions",
    help: "BGP sessions of this node's BIRD, by BGPPeer and state (1 for the state it is in)",
    labelNames: ["peer", "state"] as const,
    registers: [this.registry],
  });
  readonly isolated = new Gauge({
    name: "herald_agent_isolated",
    help: "1 while this node hears from too few peers and cannot reach the API server",
    registers: [this.registry],
  });

  constructor(defaultMetrics = false) {
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** Replaces the session series: a peer's old state must not linger next to its new one. */
  setSessions(sessions: readonly { peer: string; state: string }[]): void {
    this.bgpSessions.reset();
    for (const session of sessions)
      this.bgpSessions.set({ peer: session.peer, state: session.state }, 1);
  }

  /** Exposes the failure detector's view and counters, read at scrape time. */
  watchDetector(source: () => DetectorGauges | undefined): void {
    const view = () => source()?.view();
    const stats = () => source()?.stats();
    new Gauge({
      name: "herald_detector_members",
      help: "Members of the failure detector, by state as this node sees them",
      labelNames: ["state"] as const,
      registers: [this.registry],
      collect() {
        const v = view();
        this.set({ state: "alive" }, v ? v.members.length - v.dead.length : 0);
        this.set({ state: "suspect" }, v?.suspects.length ?? 0);
        this.set({ state: "dead" }, v?.dead.length ?? 0);
      },
    });
    new Gauge({
      name: "herald_detector_deaths_total",
      help: "Deaths this node's detector saw (declared by it or reported by a peer)",
      registers: [this.registry],
      collect() {
        this.set(stats()?.deaths ?? 0);
      },
    });
    new Gauge({
      name: "herald_detector_packets_total",
      help: "Failure-detector packets sent and received",
      labelNames: ["direction"] as const,
      registers: [this.registry],
      collect() {
        const s = stats();
        this.set({ direction: "sent" }, s?.packetsSent ?? 0);
        this.set({ direction: "received" }, s?.packetsReceived ?? 0);
      },
    });
    new Gauge({
      name: "herald_detector_packets_dropped_total",
      help: "Failure-detector packets dropped, by reason",
      labelNames: ["reason"] as const,
      registers: [this.registry],
      collect() {
        const dropped = stats()?.dropped;
        for (const [reason, count] of Object.entries(dropped ?? {})) this.set({ reason }, count);
      },
    });
  }
}
