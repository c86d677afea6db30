// `herald lab backend`: the web server in each node namespace. On devkube it stands for
// both the backend Pod and kube-proxy: on a node that hosts a backend Pod it answers with
// the node's name; on any other node it passes the request to a node that does
// (round-robin, as kube-proxy does for externalTrafficPolicy: Cluster) and relays the
// answer, so the answer always names the node that served it. It listens on every
// address, so a LoadBalancer address the agent puts on the node is served with no
// further setup. With real kube-proxy (`--kube real`) it is the Pod alone: kube-proxy
// picks the endpoint, and a node without a backend Pod answers 503.
//
// GET /stream?lines=N&everyMs=M answers with N lines, one every M ms, each naming the node
// that served it: a connection that stays open, for tests of what a handover does to one.
//
// Every answer says, in CLIENT_HEADER, the address the request came from as the serving
// node saw it: the client's own when its source was preserved, a node's when it was not.
import { createServer, request as httpRequest, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Set on a forwarded request: its receiver answers itself or fails, never forwards again. */
export const FORWARDED_HEADER = "x-herald-lab-forwarded-by";
/** The request's source address as the answering backend saw it. */
export const CLIENT_HEADER = "x-herald-lab-client";

export interface BackendOptions {
  readonly node: string;
  /** The nodes hosting a backend Pod now; called on every request (the file is tiny). */
  readonly backendNodes: () => readonly string[];
  /** node -> address other backends are reached at. */
  readonly addresses: Readonly<Record<string, string>>;
  readonly port: number;
  /** Default: every IPv4 and IPv6 address. */
  readonly host?: string;
  readonly forwardTimeoutMs?: number;
  /** Pass requests on to a node with a backend (devkube); false: kube-proxy does that. */
  readonly forward?: boolean;
}

export async function startBackend(options: BackendOptions): Promise<Server> {
  let next = 0;
  /** Every node's backend listens on the same port as this one (0 in tests picks it). */
  let port = options.port;
  const server = createServer((request, response) => {
    const reply = (status: number, text: string) =>
      response
        .writeHead(status, {
          "Content-Type": "text/plain; charset=utf-8",
          [CLIENT_HEADER]: clientAddress(request.socket.remoteAddress),
        })
        .end(text);
    let backends: readonly string[];
    try {
      backends = options.backendNodes();
    } catch (error) {
      reply(500, `${options.node}: cannot read the backend list: ${(error as Error).message}\n`);
      return;
    }
    if (backends.includes(options.node)) {
      const stream = streamOf(request.url);
      if (stream)
        streamLines(response, options.node, stream, clientAddress(request.socket.remoteAddress));
      else reply(200, `${options.node}\n`);
      return;
    }
    if (request.headers[FORWARDED_HEADER] !== undefined || options.forward === false) {
      reply(503, `${options.node}: no backend here\n`);
      return;
    }
    const candidates = backends.filter((node) => options.addresses[node] !== undefined);
    if (candidates.length === 0) {
      reply(503, `${options.node}: no backend anywhere\n`);
      return;
    }
    const target = candidates[next++ % candidates.length]!;
    const forwarded = httpRequest(
      {
        host: options.addresses[target],
        port,
        path: request.url ?? "/",
        method: request.method,
        headers: { [FORWARDED_HEADER]: options.node },
        agent: false,
        timeout: options.forwardTimeoutMs ?? 2000,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, {
          "Content-Type": answer.headers["content-type"] ?? "text/plain",
          [CLIENT_HEADER]: answer.headers[CLIENT_HEADER] ?? "",
        });
        answer.pipe(response);
      },
    );
    forwarded.on("timeout", () => forwarded.destroy(new Error("timed out")));
    forwarded.on("error", (error) => {
      if (!response.headersSent)
        reply(502, `${options.node}: ${target} did not answer: ${error.message}\n`);
      else response.destroy();
    });
    request.pipe(forwarded);
  });
  server.keepAliveTimeout = 1000;
  await listen(server, options.port, options.host);
  port = (server.address() as AddressInfo).port;
  return server;
}

const MAX_STREAM_LINES = 1000;
const MAX_STREAM_INTERVAL_MS = 10_000;

/** /stream's parameters, bounded; undefined for any other path. */
function streamOf(url: string | undefined): { lines: number; everyMs: number } | undefined {
  const parsed = new URL(url ?? "/", "http://backend");
  if (parsed.pathname !== "/stream") return undefined;
  const bounded = (name: string, fallback: number, max: number) => {
    const value = Number(parsed.searchParams.get(name) ?? fallback);
    return Number.isInteger(value) && value >= 0 ? Math.min(value, max) : fallback;
  };
  return {
    lines: bounded("lines", 10, MAX_STREAM_LINES),
    everyMs: bounded("everyMs", 100, MAX_STREAM_INTERVAL_MS),
  };
}

function streamLines(
  response: ServerResponse,
  node: string,
  stream: { lines: number; everyMs: number },
  client: string,
): void {
  response.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", [CLIENT_HEADER]: client });
  let line = 0;
  const next = () => {
    if (line === stream.lines || response.destroyed) {
      response.end();
      return;
    }
    response.write(`${node} ${line++}\n`);
    timer = setTimeout(next, stream.everyMs);
  };
  let timer = setTimeout(next, 0);
  response.on("close", () => clearTimeout(timer));
}

/** IPv4 clients of a dual-stack socket show as ::ffff:a.b.c.d. */
function clientAddress(address: string | undefined): string {
  return (address ?? "").replace(/^::ffff:(?=\d+\.)/, "");
}

async function listen(server: Server, port: number, host: string | undefined): Promise<void> {
  const attempt = (where: { host: string; ipv6Only?: boolean }) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ port, ...where }, () => {
        server.off("error", reject);
        resolve();
      });
    });
  if (host !== undefined) return attempt({ host });
  try {
    // "::" without ipv6Only takes IPv4 too, as mapped addresses.
    await attempt({ host: "::", ipv6Only: false });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EAFNOSUPPORT" && code !== "EADDRNOTAVAIL") throw error;
    await attempt({ host: "0.0.0.0" }); // a kernel without IPv6
  }
}
