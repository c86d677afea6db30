// devkube: an in-memory Kubernetes API server for tests, the lab and `herald
// dev-apiserver`. It speaks the REST API that @kubernetes/client-node and kubectl use —
// discovery, list/watch with resourceVersions, optimistic concurrency, status
// subresources, patches, selectors, CRDs with schema and CEL validation — and can inject
// faults. No authentication, no persistence: never expose it.
//
// DevKube wires the parts: routing.ts finds the resource, rest.ts serves the verb with
// list.ts, watch.ts and objects.ts, and control.ts holds what tests inject and count.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import {
  InjectedFaults,
  RequestCounter,
  requestKey,
  serveControl,
  type RequestStats,
} from "./control.ts";
import { openApiDocument, openApiRoot, SERVER_VERSION } from "./discovery.ts";
import { isStatusError, sendJson, sendStatus, sendText } from "./http.ts";
import { Objects } from "./objects.ts";
import { ResourceRegistry } from "./registry.ts";
import { serveResource } from "./rest.ts";
import { resolveApiPath } from "./routing.ts";
import { failure } from "./status.ts";
import { Store, type KubeObject } from "./store.ts";
import { Watches } from "./watch.ts";

export type { RequestStats } from "./control.ts";

export interface DevKubeOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Changes kept for watches to resume from; older versions get 410 Gone. */
  historyLimit?: number;
  /** How often open watches that asked for bookmarks get one. */
  bookmarkIntervalMs?: number;
}

const DEFAULT_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

export class DevKube {
  readonly store: Store;
  private readonly server: Server;
  private readonly registry = new ResourceRegistry();
  private readonly objects: Objects;
  private readonly watches: Watches;
  private readonly faults = new InjectedFaults();
  private readonly counter = new RequestCounter();
  private baseUrl = "";

  private constructor(options: DevKubeOptions) {
    this.store = new Store(options.historyLimit);
    this.objects = new Objects(this.store, this.registry);
    this.watches = new Watches(this.store, options.bookmarkIntervalMs ?? 10_000);
    const namespaces = this.registry.get("", "v1", "namespaces")!;
    for (const name of DEFAULT_NAMESPACES)
      this.objects.createUnchecked(namespaces, { metadata: { name } });
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        // Handlers throw StatusError values for what a client did wrong; anything else is ours.
        sendStatus(
          response,
          isStatusError(error) ? error : failure(500, `devkube: ${(error as Error).message}`),
        );
      });
    });
    this.server.keepAliveTimeout = 60_000;
    this.server.on("connection", () => this.counter.connection());
  }

  static async start(options: DevKubeOptions = {}): Promise<DevKube> {
    const kube = new DevKube(options);
    await new Promise<void>((resolve, reject) => {
      kube.server.once("error", reject);
      kube.server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
    });
    const address = kube.server.address() as AddressInfo;
    kube.baseUrl = `http://${address.address}:${address.port}`;
    return kube;
  }

  get url(): string {
    return this.baseUrl;
  }

  /** A kubeconfig for this server (no credentials: devkube has no authentication). */
  kubeconfig(): string {
    return [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "- name: devkube",
      "  cluster:",
      `    server: ${this.baseUrl}`,
      // client-node refuses plain HTTP unless told TLS checks are off; there is no TLS.
      "    insecure-skip-tls-verify: true",
      "users:",
      "- name: devkube",
      "  user: {}",
      "contexts:",
      "- name: devkube",
      "  context: {cluster: devkube, user: devkube, namespace: default}",
      "current-context: devkube",
      "",
    ].join("\n");
  }

  /** Closes every watch and the listening socket. */
  async stop(): Promise<void> {
    this.dropWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- fault injection ----

  /** Ends every open watch, as an API server restart or a load balancer would. */
  dropWatches(): void {
    this.watches.closeAll();
  }

  /** Answers the next `count` API requests with `code` (500, or 429 with Retry-After). */
  /**
   * Every request of one kind ("PATCH addresspools/status") fails with `code` until
   * `code` is undefined: a write the server keeps refusing, which failNext cannot model.
   */
  refuse(kind: string, code: number | undefined): void {
    if (code === undefined) this.faults.refused.delete(kind);
    else this.faults.refused.set(kind, code);
  }

  failNext(count: number, code = 500): void {
    this.faults.failNext(count, code);
  }

  /** Forgets history: watches resuming from any version seen so far get 410 Gone. */
  expireResourceVersions(): void {
    this.store.compact();
  }

  /** Delays every API response by `ms`. */
  setLatency(ms: number): void {
    this.faults.latencyMs = ms;
  }

  /**
   * Stores an object as given, skipping defaulting and validation, as if it had reached
   * etcd some other way (an older schema, a direct write): for tests of what controllers
   * do with objects the API would now refuse.
   */
  putUnvalidated(apiVersion: string, plural: string, object: Record<string, unknown>): KubeObject {
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
    const type = this.registry.get(group!, version!, plural);
    if (!type) throw new Error(`devkube does not serve ${plural} in ${apiVersion}`);
    return this.objects.putUnvalidated(type, object);
  }

  requestStats(): RequestStats {
    return this.counter.snapshot();
  }

  resetStats(): void {
    this.counter.reset();
  }

  // ---- request handling ----

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://devkube");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    if (path === "/version") return sendJson(response, 200, SERVER_VERSION);
    if (path === "/healthz" || path === "/readyz" || path === "/livez")
      return sendText(response, 200, "ok");
    if (path.startsWith("/devkube/")) return serveControl(request, response, path, this);
    if (path === "/openapi/v3") return sendJson(response, 200, openApiRoot(this.registry.all()));
    if (path.startsWith("/openapi/v3/")) {
      const document = openApiDocument(this.registry.all(), path.slice("/openapi/v3/".length));
      if (!document) throw failure(404, "no OpenAPI document for that group-version");
      return sendJson(response, 200, document);
    }
    if (this.faults.latencyMs > 0) await sleep(this.faults.latencyMs);
    if (!path.startsWith("/api"))
      throw failure(404, `the server could not find the requested resource`);
    const injected = this.faults.takeFailure();
    if (injected !== undefined) {
      if (injected === 429) response.setHeader("Retry-After", "1");
      throw failure(injected, "devkube: injected failure");
    }

    const resolved = resolveApiPath(path, this.registry.all());
    if (resolved.kind === "notFound") throw failure(404, resolved.message);
    if (resolved.kind === "discovery") return sendJson(response, 200, resolved.document);
    this.counter.request(request.method ?? "GET", resolved.route);
    const refused = this.faults.refused.get(requestKey(request.method ?? "GET", resolved.route));
    if (refused !== undefined) throw failure(refused, "devkube: refused on request");
    const { store, objects, watches } = this;
    await serveResource(request, response, resolved.route, url, { store, objects, watches });
  }
}
