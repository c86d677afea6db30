// `herald controller`: the allocation controller as a process, with Prometheus metrics
// and health endpoints, stopping cleanly (lease released) on SIGTERM.
import { AllocationController } from "../controller/controller.ts";
import { ControllerMetrics } from "../controller/metrics.ts";
import { loadKubeConfig } from "../kube/kubeconfig.ts";
import type { Logger } from "../log.ts";
import { runUntilSignal } from "./http.ts";

/** The command's flags, as commander hands them over. */
export interface ControllerCommandOptions {
  kubeconfig?: string;
  namespace: string;
  identity: string;
  classOnly: boolean;
  metricsAddress: string;
  healthAddress: string;
  workers: number;
  kubeApiQps: number;
  kubeApiBurst: number;
  agentKeySecret: string;
}

export async function runController(
  options: ControllerCommandOptions,
  log: Logger,
): Promise<number> {
  const config = loadKubeConfig(options.kubeconfig);
  const metrics = new ControllerMetrics(true);
  const controller = new AllocationController({
    config,
    namespace: options.namespace,
    identity: options.identity,
    classOnly: options.classOnly,
    workers: options.workers,
    qps: options.kubeApiQps,
    burst: options.kubeApiBurst,
    agentKeySecret: options.agentKeySecret,
    log,
    metrics,
  });
  log.info(
    {
      identity: options.identity,
      namespace: options.namespace,
      metrics: options.metricsAddress,
      health: options.healthAddress,
    },
    "controller starting",
  );
  await runUntilSignal({
    addresses: options,
    registry: metrics.registry,
    ready: () =>
      controller.isReady() ? undefined : "caches syncing or held addresses not yet restored",
    run: (signal) => controller.run(signal),
  });
  await config.close();
  log.info("controller stopped");
  return 0;
}
