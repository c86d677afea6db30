// `herald controller`: the allocation controller as a process, with Prometheus metrics
// and health endpoints, stopping cleanly (lease released) on SIGTERM.
import { createServer, type Server } from "node:http";
import { AllocationController } from "../controller/controller.ts";
import { ControllerMetrics } from "../controller/metrics.ts";
import { loadKubeConfig } from "../kube/kubeconfig.ts";
import type { Logger } from "../log.ts";

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
    log,
    metrics,
  });
  const servers: Server[] = [];
  const handler = (path: string | undefined) => {
    if (path === "/metrics" && options.metricsAddress !== "0") return "metrics";
    if (path === "/healthz" || path === "/livez") return "live";
    if (path === "/readyz") return "ready";
    return undefined;
  };
  for (const address of new Set([options.metricsAddress, options.healthAddress])) {
    if (address === "0") continue;
    const server = createServer(async (request, response) => {
      const kind = handler(request.url?.split("?")[0]);
      if (kind === "metrics") {
        response.writeHead(200, { "Content-Type": metrics.registry.contentType });
        response.end(await metrics.registry.metrics());
      } else if (kind === "live") {
        response.writeHead(200).end("ok\n");
      } else if (kind === "ready") {
        const ready = controller.isReady();
        response
          .writeHead(ready ? 200 : 503)
          .end(ready ? "ok\n" : "not ready: caches syncing or held addresses not yet restored\n");
      } else {
        response.writeHead(404).end("not found\n");
      }
    });
    const { host, port } = parseAddress(address);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, resolve);
    });
    servers.push(server);
  }
  log.info(
    {
      identity: options.identity,
      namespace: options.namespace,
      metrics: options.metricsAddress,
      health: options.healthAddress,
    },
    "controller starting",
  );
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  await controller.run(abort.signal);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  await config.close();
  log.info("controller stopped");
  return 0;
}

/** "host:port", ":port" or "port". */
export function parseAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(":");
  const host = colon > 0 ? address.slice(0, colon).replace(/^\[|\]$/g, "") : "0.0.0.0";
  const port = Number(colon >= 0 ? address.slice(colon + 1) : address);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`"${address}" is not host:port`);
  return { host, port };
}
