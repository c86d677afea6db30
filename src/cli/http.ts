// The metrics and health endpoints every Herald daemon serves: /metrics (Prometheus),
// /healthz and /livez (the process answers), /readyz (it can do its job). One listener
// when both addresses are the same, none for an address of "0".
import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";

export interface Endpoints {
  metrics: () => Promise<{ contentType: string; body: string }>;
  /** undefined when ready, else why not. */
  ready: () => string | undefined;
}

export async function serveHttp(
  addresses: { metricsAddress: string; healthAddress: string },
  endpoints: Endpoints,
): Promise<{ close(): Promise<void> }> {
  const servers: Server[] = [];
  for (const address of new Set([addresses.metricsAddress, addresses.healthAddress])) {
    if (address === "0") continue;
    const server = createServer(async (request, response) => {
      const path = request.url?.split("?")[0];
      if (path === "/metrics" && addresses.metricsAddress !== "0") {
        const { contentType, body } = await endpoints.metrics();
        response.writeHead(200, { "Content-Type": contentType }).end(body);
      } else if (path === "/healthz" || path === "/livez") {
        response.writeHead(200).end("ok\n");
      } else if (path === "/readyz") {
        const problem = endpoints.ready();
        response
          .writeHead(problem === undefined ? 200 : 503)
          .end(problem === undefined ? "ok\n" : `not ready: ${problem}\n`);
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
  return {
    close: () =>
      Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))).then(() => {}),
  };
}

/**
 * Runs a daemon's main loop with its metrics and health endpoints until SIGTERM or SIGINT,
 * then closes the endpoints.
 */
export async function runUntilSignal(daemon: {
  addresses: { metricsAddress: string; healthAddress: string };
  registry: Registry;
  ready: () => string | undefined;
  run: (signal: AbortSignal) => Promise<void>;
}): Promise<void> {
  const servers = await serveHttp(daemon.addresses, {
    metrics: async () => ({
      contentType: daemon.registry.contentType,
      body: await daemon.registry.metrics(),
    }),
    ready: daemon.ready,
  });
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  await daemon.run(abort.signal);
  await servers.close();
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
