// `herald agent`: the node agent as a process (a DaemonSet pod with hostNetwork), with
// Prometheus metrics and health endpoints. SIGTERM stops it without touching the kernel:
// the addresses it announces stay until another node takes them or a new agent decides.
import { Agent } from "../agent/agent.ts";
import type { BirdMode } from "../agent/bird/daemon.ts";
import { FailureDetector } from "../agent/detector/detector.ts";
import { IpCommandKernel } from "../agent/kernel/ip-kernel.ts";
import { AgentMetrics } from "../agent/metrics.ts";
import { loadKubeConfig } from "../kube/kubeconfig.ts";
import type { Logger } from "../log.ts";
import { runUntilSignal } from "./http.ts";

/** The command's flags, as commander hands them over. */
export interface AgentCommandOptions {
  kubeconfig?: string;
  nodeName?: string;
  namespace: string;
  keySecret: string;
  daemonset?: string;
  classOnly: boolean;
  birdDir?: string;
  birdMode: BirdMode;
  procSys?: string;
  metricsAddress: string;
  healthAddress: string;
}

export async function runAgent(options: AgentCommandOptions, log: Logger): Promise<number> {
  if (!options.nodeName) {
    log.error("--node-name (or NODE_NAME from the downward API) is required");
    return 2;
  }
  const config = loadKubeConfig(options.kubeconfig);
  const metrics = new AgentMetrics(true);
  const agent = new Agent({
    config,
    nodeName: options.nodeName,
    namespace: options.namespace,
    keySecret: options.keySecret,
    ...(options.daemonset ? { daemonSet: options.daemonset } : {}),
    classOnly: options.classOnly,
    birdDir: options.birdDir,
    birdMode: options.birdMode,
    kernel: new IpCommandKernel({ procSys: options.procSys }),
    detector: (detectorOptions) => FailureDetector.start(detectorOptions),
    log,
    metrics,
  });
  log.info({ node: options.nodeName, namespace: options.namespace }, "agent starting");
  await runUntilSignal({
    addresses: options,
    registry: metrics.registry,
    ready: () => (agent.isReady() ? undefined : "caches syncing or failure detector not yet warm"),
    run: (signal) => agent.run(signal),
  });
  await config.close();
  log.info("agent stopped");
  return 0;
}
