// The controller's Prometheus metrics, in a registry of its own (no globals, so tests
// can run several controllers in one process).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { QueueMetrics } from "../kube/workqueue.ts";

export class ControllerMetrics {
  readonly registry = new Registry();
  readonly poolAddresses = new Gauge({
    name: "herald_pool_addresses",
    help: "Addresses of a pool by family and state (capacity, allocated, available)",
    labelNames: ["pool", "family", "state"] as const,
    registers: [this.registry],
  });
  readonly allocations = new Counter({
    name: "herald_allocations_total",
    help: "Addresses handed to services",
    labelNames: ["pool"] as const,
    registers: [this.registry],
  });
  readonly failures = new Counter({
    name: "herald_allocation_failures_total",
    help: "Services that could not get (all) their addresses, by reason",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly waiting = new Gauge({
    name: "herald_services_waiting",
    help: "Services of ours without all their addresses",
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: "herald_controller_leader",
    help: "1 while this replica is the leader",
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: "herald_workqueue_depth",
    help: "Keys waiting in the work queue",
    registers: [this.registry],
  });
  readonly queueAdds = new Counter({
    name: "herald_workqueue_adds_total",
    help: "Keys added to the work queue",
    registers: [this.registry],
  });
  readonly queueRetries = new Counter({
    name: "herald_workqueue_retries_total",
    help: "Keys retried after an error",
    registers: [this.registry],
  });
  readonly queueLatency = new Histogram({
    name: "herald_workqueue_queue_duration_seconds",
    help: "Time a key waits in the queue before a worker takes it",
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
    registers: [this.registry],
  });
  readonly workDuration = new Gauge({
    name: "herald_workqueue_last_work_seconds",
    help: "Duration of the last processed key",
    registers: [this.registry],
  });

  constructor(processMetrics = false) {
    if (processMetrics) collectDefaultMetrics({ register: this.registry, prefix: "herald_" });
  }

  /** The hooks the work queue calls. */
  queue(): QueueMetrics {
    return {
      depth: (n) => this.queueDepth.set(n),
      add: () => this.queueAdds.inc(),
      retry: () => this.queueRetries.inc(),
      latency: (ms) => this.queueLatency.observe(ms / 1000),
      workDuration: (ms) => this.workDuration.set(ms / 1000),
    };
  }
}
