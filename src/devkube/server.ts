// devkube: an in-memory Kubernetes API server for tests, the lab and `herald
// dev-apiserver`. It speaks the REST API that @kubernetes/client-node and kubectl use —
// discovery, list/watch with resourceVersions, optimistic concurrency, status
// subresources, patches, selectors, CRDs with schema and CEL validation — and can inject
// faults. No authentication, no persistence: never expose it.
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isDeepStrictEqual } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { ServiceAddresses } from "./defaults.ts";
import {
  apiGroup,
  coreVersions,
  groupList,
  openApiDocument,
  openApiRoot,
  resourceList,
  SERVER_VERSION,
} from "./discovery.ts";
import {
  jsonPatch,
  JSON_PATCH,
  MERGE_PATCH,
  mergePatch,
  PatchError,
  strategicMergePatch,
  STRATEGIC_MERGE_PATCH,
} from "./patch.ts";
import {
  apiVersionOf,
  BUILT_IN_RESOURCES,
  resourceKey,
  type CrdObject,
  type ResourceType,
} from "./resources.ts";
import { compileSchema, pruneAndDefault, validateObject, type FieldCause } from "./schema.ts";
import {
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
  type Selector,
} from "./selectors.ts";
import {
  alreadyExists,
  conflict,
  failure,
  gone,
  invalid,
  notFound,
  type StatusError,
} from "./status.ts";
import { Store, type Change, type KubeObject } from "./store.ts";
import { table, wantsTable } from "./table.ts";

export interface DevKubeOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Changes kept for watches to resume from; older versions get 410 Gone. */
  historyLimit?: number;
  /** How often open watches that asked for bookmarks get one. */
  bookmarkIntervalMs?: number;
}

/** Counts of requests served, for tests and benchmarks that count API writes. */
export interface RequestStats {
  /** "VERB resource[/subresource]" -> count, e.g. "PATCH services/status". */
  byVerb: Record<string, number>;
  writes: number;
  total: number;
  /** TCP connections accepted: shows whether clients reuse them. */
  connections: number;
}

const DEFAULT_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];
const CRD_KEY = "apiextensions.k8s.io/v1/customresourcedefinitions";
const MAX_BODY = 32 << 20;

interface Route {
  type: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

interface OpenWatch {
  response: ServerResponse;
  close(): void;
}

export class DevKube {
  readonly store: Store;
  private readonly server: Server;
  private readonly types = new Map<string, ResourceType>();
  private readonly services = new ServiceAddresses();
  private readonly watches = new Set<OpenWatch>();
  private readonly bookmarkIntervalMs: number;
  private stats: RequestStats = { byVerb: {}, writes: 0, total: 0, connections: 0 };
  private failures: { count: number; code: number } = { count: 0, code: 500 };
  private latencyMs = 0;
  private baseUrl = "";

  private constructor(options: DevKubeOptions) {
    this.store = new Store(options.historyLimit);
    this.bookmarkIntervalMs = options.bookmarkIntervalMs ?? 10_000;
    for (const type of BUILT_IN_RESOURCES) this.types.set(resourceKey(type), type);
    for (const name of DEFAULT_NAMESPACES)
      this.createDirect(this.typeOf("", "v1", "namespaces")!, { metadata: { name } });
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        // Handlers throw StatusError values for what a client did wrong; anything else is ours.
        this.send(
          response,
          isStatusError(error) ? error : failure(500, `devkube: ${(error as Error).message}`),
        );
      });
    });
    this.server.keepAliveTimeout = 60_000;
    this.server.on("connection", () => this.stats.connections++);
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
    for (const watch of [...this.watches]) watch.close();
  }

  /** Answers the next `count` API requests with `code` (500, or 429 with Retry-After). */
  failNext(count: number, code = 500): void {
    this.failures = { count, code };
  }

  /** Forgets history: watches resuming from any version seen so far get 410 Gone. */
  expireResourceVersions(): void {
    this.store.compact();
  }

  /** Delays every API response by `ms`. */
  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /**
   * Stores an object as given, skipping defaulting and validation, as if it had reached
   * etcd some other way (an older schema, a direct write): for tests of what controllers
   * do with objects the API would now refuse.
   */
  putUnvalidated(apiVersion: string, plural: string, object: Record<string, unknown>): KubeObject {
    const [groupName, version] = apiVersion.includes("/")
      ? apiVersion.split("/")
      : ["", apiVersion];
    const type = this.typeOf(groupName!, version!, plural);
    if (!type) throw new Error(`devkube does not serve ${plural} in ${apiVersion}`);
    const metadata = (object.metadata ?? {}) as KubeObject["metadata"];
    const current = this.store.get(resourceKey(type), metadata.namespace, metadata.name);
    return this.store.write(
      resourceKey(type),
      {
        ...structuredClone(object),
        apiVersion,
        kind: type.kind,
        metadata: {
          uid: current?.metadata.uid ?? randomUUID(),
          creationTimestamp: current?.metadata.creationTimestamp ?? now(),
          generation: Number(current?.metadata.generation ?? 0) + 1,
          ...metadata,
        },
      },
      current ? "MODIFIED" : "ADDED",
    );
  }

  requestStats(): RequestStats {
    return structuredClone(this.stats);
  }

  resetStats(): void {
    this.stats = { byVerb: {}, writes: 0, total: 0, connections: 0 };
  }

  // ---- request handling ----

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://devkube");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    if (path === "/version") return this.json(response, 200, SERVER_VERSION);
    if (path === "/healthz" || path === "/readyz" || path === "/livez")
      return this.text(response, 200, "ok");
    if (path.startsWith("/devkube/")) return this.handleControl(request, response, path);
    if (path === "/openapi/v3") return this.json(response, 200, openApiRoot(this.types.values()));
    if (path.startsWith("/openapi/v3/")) {
      const document = openApiDocument(this.types.values(), path.slice("/openapi/v3/".length));
      return document
        ? this.json(response, 200, document)
        : this.send(response, failure(404, "no OpenAPI document for that group-version"));
    }
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    if (!path.startsWith("/api"))
      return this.send(response, failure(404, `the server could not find the requested resource`));
    if (this.failures.count > 0) {
      this.failures.count--;
      if (this.failures.code === 429) response.setHeader("Retry-After", "1");
      return this.send(response, failure(this.failures.code, "devkube: injected failure"));
    }

    const segments = path.split("/").filter(Boolean);
    let group: string;
    let version: string | undefined;
    let rest: string[];
    if (segments[0] === "api") {
      if (segments.length === 1) return this.json(response, 200, coreVersions());
      [group, version, rest] = ["", segments[1]!, segments.slice(2)];
    } else if (segments[0] === "apis") {
      if (segments.length === 1) return this.json(response, 200, groupList(this.types.values()));
      group = segments[1]!;
      if (segments.length === 2) {
        const document = apiGroup(this.types.values(), group);
        return document
          ? this.json(response, 200, document)
          : this.send(response, failure(404, "group not found"));
      }
      [version, rest] = [segments[2]!, segments.slice(3)];
    } else {
      return this.send(response, failure(404, "the server could not find the requested resource"));
    }
    const served = [...this.types.values()].filter(
      (t) => t.group === group && t.version === version,
    );
    if (served.length === 0)
      return this.send(response, failure(404, "the server could not find the requested resource"));
    if (rest.length === 0) {
      return this.json(
        response,
        200,
        resourceList(served, group === "" ? version : `${group}/${version}`),
      );
    }
    const contentType = request.headers["content-type"] ?? "";
    if (contentType.includes("protobuf") || contentType.includes("cbor")) {
      // devkube speaks JSON only. kubectl's generators (create namespace, create service …)
      // send protobuf and do not fall back, so say what works instead.
      request.resume();
      return this.send(
        response,
        failure(
          415,
          `devkube accepts JSON bodies only (application/json, ${MERGE_PATCH}, ${JSON_PATCH}, ${STRATEGIC_MERGE_PATCH}); ` +
            "kubectl create <generator> sends protobuf: write the object as YAML and use kubectl apply -f or create -f",
        ),
      );
    }
    const route = this.route(served, rest);
    if (!route)
      return this.send(response, failure(404, "the server could not find the requested resource"));
    this.count(request.method ?? "GET", route);
    const result = await this.serve(request, response, route, url);
    if (result) this.send(response, result);
  }

  /** Resolves "namespaces/ns/services/name/status" and friends against the served types. */
  private route(served: ResourceType[], rest: string[]): Route | undefined {
    const byPlural = (plural: string) => served.find((t) => t.plural === plural);
    if (rest[0] === "namespaces" && rest.length >= 3) {
      const type = byPlural(rest[2]!);
      if (type?.namespaced) {
        if (rest.length > 5) return undefined;
        return { type, namespace: rest[1], name: rest[3], subresource: rest[4] };
      }
    }
    const type = byPlural(rest[0]!);
    if (!type || rest.length > 3) return undefined;
    return { type, namespace: undefined, name: rest[1], subresource: rest[2] };
  }

  private count(method: string, route: Route): void {
    const key = `${method} ${route.type.plural}${route.subresource ? `/${route.subresource}` : ""}`;
    this.stats.byVerb[key] = (this.stats.byVerb[key] ?? 0) + 1;
    this.stats.total++;
    if (method !== "GET") this.stats.writes++;
  }

  private async serve(
    request: IncomingMessage,
    response: ServerResponse,
    route: Route,
    url: URL,
  ): Promise<StatusError | undefined> {
    const { type, namespace, name, subresource } = route;
    if (subresource !== undefined && (subresource !== "status" || !type.statusSubresource)) {
      return failure(404, `the server could not find the requested resource`);
    }
    const method = request.method ?? "GET";
    if (name === undefined) {
      if (method === "GET") {
        const watch = url.searchParams.get("watch");
        if (watch === "true" || watch === "1") return this.watch(request, response, route, url);
        return this.list(request, response, route, url);
      }
      if (method === "POST")
        return this.created(response, this.create(type, namespace, await readJson(request), url));
      if (method === "DELETE") return this.deleteCollection(response, route, url);
      return failure(405, `method ${method} not allowed on a collection`);
    }
    const current = this.store.get(resourceKey(type), namespace, name);
    if (method === "GET") {
      if (!current) return notFound(type, name);
      return this.ok(response, request, type, current);
    }
    if (method === "PUT") {
      const body = await readJson(request);
      return this.ok(
        response,
        request,
        type,
        this.update(type, namespace, name, body, subresource, url),
      );
    }
    if (method === "PATCH") {
      if (!current) return notFound(type, name);
      const patched = applyPatch(request.headers["content-type"], current, await readJson(request));
      return this.ok(
        response,
        request,
        type,
        this.update(type, namespace, name, patched, subresource, url),
      );
    }
    if (method === "DELETE") {
      const options = (await readJson(request, true)) as {
        preconditions?: { uid?: string; resourceVersion?: string };
      };
      const result = this.delete(type, namespace, name, options?.preconditions);
      if (this.store.get(resourceKey(type), namespace, name)) {
        // Held by finalizers: the object is answered, marked for deletion.
        this.json(response, 202, result);
      } else {
        this.json(response, 200, {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Success",
          details: { name, group: type.group, kind: type.plural, uid: result.metadata.uid },
        });
      }
      return undefined;
    }
    return failure(405, `method ${method} not allowed`);
  }

  // ---- list and watch ----

  private list(
    request: IncomingMessage,
    response: ServerResponse,
    route: Route,
    url: URL,
  ): StatusError | undefined {
    const { type, namespace } = route;
    const selectors = this.selectors(type, url);
    const limit = Number(url.searchParams.get("limit") ?? 0);
    const token = url.searchParams.get("continue");
    let start = "";
    let listRv = String(this.store.resourceVersion);
    if (token) {
      try {
        ({ start, rv: listRv } = JSON.parse(Buffer.from(token, "base64url").toString()) as {
          start: string;
          rv: string;
        });
      } catch {
        return failure(400, "continue token is not valid");
      }
      if (this.store.expired(Number(listRv)))
        return gone("The provided continue parameter is too old, please re-list");
    }
    let items = this.store
      .list(resourceKey(type), namespace)
      .filter((object) => keyOf(object) > start && selectors.every((s) => s.matches(object)));
    let next: string | undefined;
    let remaining = 0;
    if (limit > 0 && items.length > limit) {
      remaining = items.length - limit;
      items = items.slice(0, limit);
      next = Buffer.from(JSON.stringify({ start: keyOf(items.at(-1)!), rv: listRv })).toString(
        "base64url",
      );
    }
    if (wantsTable(request.headers.accept)) {
      this.json(response, 200, table(type, items, listRv));
      return undefined;
    }
    this.json(response, 200, {
      kind: type.listKind,
      apiVersion: apiVersionOf(type),
      metadata: {
        resourceVersion: listRv,
        ...(next ? { continue: next, remainingItemCount: remaining } : {}),
      },
      items,
    });
    return undefined;
  }

  private watch(
    request: IncomingMessage,
    response: ServerResponse,
    route: Route,
    url: URL,
  ): StatusError | undefined {
    const { type, namespace } = route;
    const selectors = this.selectors(type, url);
    const key = resourceKey(type);
    const asTable = wantsTable(request.headers.accept);
    const rvParam = url.searchParams.get("resourceVersion");
    const matches = (object: KubeObject | undefined) =>
      object !== undefined &&
      (namespace === undefined || object.metadata.namespace === namespace) &&
      selectors.every((s) => s.matches(object));

    response.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
    response.flushHeaders();
    const write = (eventType: string, object: unknown) => {
      const payload =
        asTable && eventType !== "ERROR" && eventType !== "BOOKMARK"
          ? table(type, [object as KubeObject], "")
          : object;
      response.write(`${JSON.stringify({ type: eventType, object: payload })}\n`);
    };
    // A change is seen through this watch's selector: entering it is ADDED, leaving it DELETED.
    const deliver = (change: Change) => {
      const now = matches(change.object) && change.type !== "DELETED";
      const before = matches(change.previous);
      if (change.type === "DELETED") {
        if (before || matches(change.object)) write("DELETED", change.object);
      } else if (now && before) write("MODIFIED", change.object);
      else if (now) write("ADDED", change.object);
      else if (before) write("DELETED", change.object);
    };

    if (!rvParam || rvParam === "0") {
      for (const object of this.store.list(key, namespace))
        if (matches(object)) write("ADDED", object);
    } else {
      const rv = Number(rvParam);
      const changes = Number.isInteger(rv) ? this.store.changesSince(key, rv) : "gone";
      if (changes === "gone") {
        write(
          "ERROR",
          gone(`too old resource version: ${rvParam} (${this.store.resourceVersion})`).body,
        );
        response.end();
        return undefined;
      }
      for (const change of changes) deliver(change);
    }

    const unsubscribe = this.store.subscribe(key, deliver);
    const bookmarks =
      url.searchParams.get("allowWatchBookmarks") === "true"
        ? setInterval(() => {
            write("BOOKMARK", {
              kind: type.kind,
              apiVersion: apiVersionOf(type),
              metadata: { resourceVersion: String(this.store.resourceVersion) },
            });
          }, this.bookmarkIntervalMs)
        : undefined;
    const timeoutSeconds = Number(url.searchParams.get("timeoutSeconds") ?? 0);
    const timeout =
      timeoutSeconds > 0 ? setTimeout(() => open.close(), timeoutSeconds * 1000) : undefined;
    const open: OpenWatch = {
      response,
      close: () => {
        if (!this.watches.delete(open)) return;
        unsubscribe();
        clearInterval(bookmarks);
        clearTimeout(timeout);
        response.end();
      },
    };
    this.watches.add(open);
    response.on("close", () => open.close());
    return undefined;
  }

  private selectors(type: ResourceType, url: URL): Selector[] {
    try {
      return [
        parseLabelSelector(url.searchParams.get("labelSelector")),
        parseFieldSelector(url.searchParams.get("fieldSelector"), type.selectableFields),
      ];
    } catch (error) {
      if (error instanceof SelectorError) throw failure(400, error.message);
      throw error;
    }
  }

  // ---- writes ----

  private create(
    type: ResourceType,
    namespace: string | undefined,
    body: unknown,
    url: URL,
  ): KubeObject {
    const object = asObject(body, type);
    const metadata = object.metadata;
    if (type.namespaced) {
      if (
        namespace !== undefined &&
        metadata.namespace !== undefined &&
        metadata.namespace !== namespace
      ) {
        throw failure(
          400,
          `the namespace of the provided object does not match the namespace sent on the request`,
        );
      }
      metadata.namespace = namespace ?? metadata.namespace ?? "default";
      if (!this.store.get(resourceKey(this.namespaceType()), undefined, metadata.namespace)) {
        throw notFound(this.namespaceType(), metadata.namespace);
      }
    } else {
      delete metadata.namespace;
    }
    if (!metadata.name && typeof metadata.generateName === "string") {
      metadata.name = `${metadata.generateName}${randomBytes(4).toString("hex").slice(0, 5)}`;
    }
    if (!metadata.name)
      throw invalid(type, "", [
        {
          reason: "FieldValueRequired",
          field: "metadata.name",
          message: "Required value: name or generateName is required",
        },
      ]);
    if (!isName(metadata.name)) {
      throw invalid(type, metadata.name, [
        {
          reason: "FieldValueInvalid",
          field: "metadata.name",
          message: `Invalid value: "${metadata.name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
        },
      ]);
    }
    if (this.store.get(resourceKey(type), metadata.namespace, metadata.name))
      throw alreadyExists(type, metadata.name);
    return this.createDirect(type, object, url);
  }

  private createDirect(type: ResourceType, body: Record<string, unknown>, url?: URL): KubeObject {
    const object = structuredClone(body) as KubeObject;
    object.apiVersion = apiVersionOf(type);
    object.kind = type.kind;
    const metadata = object.metadata;
    metadata.uid = randomUUID();
    metadata.creationTimestamp = now();
    metadata.generation = 1;
    delete metadata.deletionTimestamp;
    delete metadata.resourceVersion;
    if (
      type.statusSubresource &&
      type.kind !== "Node" &&
      type.kind !== "CustomResourceDefinition"
    ) {
      // As the API server does: status is not written through the main resource.
      delete object.status;
    }
    this.prepare(type, object, undefined, url);
    const stored = this.store.write(resourceKey(type), object, "ADDED");
    if (type.kind === "CustomResourceDefinition") this.registerCrd(stored);
    return stored;
  }

  private update(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    body: unknown,
    subresource: string | undefined,
    url: URL,
  ): KubeObject {
    const current = this.store.get(resourceKey(type), namespace, name);
    if (!current) throw notFound(type, name);
    const incoming = asObject(body, type);
    if (incoming.metadata.name !== undefined && incoming.metadata.name !== name) {
      throw failure(
        400,
        `the name of the object (${incoming.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    const wantedRv = incoming.metadata.resourceVersion;
    if (
      wantedRv !== undefined &&
      wantedRv !== "" &&
      wantedRv !== current.metadata.resourceVersion
    ) {
      throw conflict(type, name);
    }
    let next: KubeObject;
    if (subresource === "status") {
      next = { ...structuredClone(current), status: incoming.status };
      if (!type.crd && type.group === "") {
        // Core kinds predate the rule that /status leaves metadata alone: a status write
        // to a Service or Pod also keeps its labels, annotations and finalizers.
        // Custom resources (and newer kinds) ignore metadata there.
        for (const field of ["labels", "annotations", "finalizers", "ownerReferences"] as const) {
          if (incoming.metadata[field] === undefined) delete next.metadata[field];
          else next.metadata[field] = structuredClone(incoming.metadata[field]) as never;
        }
      }
    } else {
      next = incoming;
      if (type.statusSubresource) next.status = structuredClone(current.status);
      // Identity and bookkeeping are the server's, whatever the client sent.
      next.metadata = {
        ...incoming.metadata,
        name,
        uid: current.metadata.uid,
        creationTimestamp: current.metadata.creationTimestamp,
        generation: current.metadata.generation,
        ...(current.metadata.deletionTimestamp
          ? { deletionTimestamp: current.metadata.deletionTimestamp }
          : {}),
      };
      if (type.namespaced) next.metadata.namespace = namespace;
      else delete next.metadata.namespace;
    }
    next.apiVersion = apiVersionOf(type);
    next.kind = type.kind;
    this.prepare(type, next, current, url);
    if (specOf(next) !== specOf(current))
      next.metadata.generation = Number(current.metadata.generation ?? 1) + 1;
    delete next.metadata.resourceVersion;

    const { resourceVersion: _rv, ...currentMetadata } = current.metadata;
    // A no-op write makes no new version and no event, as in Kubernetes.
    if (
      isDeepStrictEqual(
        { ...next, metadata: next.metadata },
        { ...current, metadata: currentMetadata },
      )
    )
      return current;
    if (next.metadata.deletionTimestamp && !(next.metadata.finalizers ?? []).length) {
      return this.removeNow(type, next);
    }
    const stored = this.store.write(resourceKey(type), next, "MODIFIED");
    if (type.kind === "CustomResourceDefinition") this.registerCrd(stored);
    return stored;
  }

  private delete(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    preconditions: { uid?: string; resourceVersion?: string } | undefined,
  ): KubeObject {
    const current = this.store.get(resourceKey(type), namespace, name);
    if (!current) throw notFound(type, name);
    if (
      (preconditions?.uid && preconditions.uid !== current.metadata.uid) ||
      (preconditions?.resourceVersion &&
        preconditions.resourceVersion !== current.metadata.resourceVersion)
    ) {
      throw conflict(type, name);
    }
    if ((current.metadata.finalizers ?? []).length > 0) {
      if (current.metadata.deletionTimestamp) return current;
      // Finalizers hold the object until their owners remove them.
      const marked = structuredClone(current);
      marked.metadata.deletionTimestamp = now();
      marked.metadata.deletionGracePeriodSeconds = 0;
      return this.store.write(resourceKey(type), marked, "MODIFIED");
    }
    return this.removeNow(type, current);
  }

  private removeNow(type: ResourceType, object: KubeObject): KubeObject {
    const key = resourceKey(type);
    if (type.kind === "Namespace") {
      // The namespace controller's job, done at once: everything in it goes first.
      for (const other of this.types.values()) {
        if (!other.namespaced) continue;
        for (const inside of this.store.list(resourceKey(other), object.metadata.name)) {
          this.removeNow(other, inside);
        }
      }
    }
    if (type.kind === "Service") this.services.release(object);
    if (type.kind === "CustomResourceDefinition") this.unregisterCrd(object.metadata.name);
    return this.store.remove(key, object.metadata.namespace, object.metadata.name) ?? object;
  }

  private deleteCollection(
    response: ServerResponse,
    route: Route,
    url: URL,
  ): StatusError | undefined {
    const selectors = this.selectors(route.type, url);
    const items = this.store
      .list(resourceKey(route.type), route.namespace)
      .filter((object) => selectors.every((s) => s.matches(object)))
      .map((object) =>
        this.delete(route.type, object.metadata.namespace, object.metadata.name, undefined),
      );
    this.json(response, 200, {
      kind: route.type.listKind,
      apiVersion: apiVersionOf(route.type),
      metadata: {},
      items,
    });
    return undefined;
  }

  /** Defaulting and validation, per kind. Throws a StatusError for an invalid object. */
  private prepare(
    type: ResourceType,
    object: KubeObject,
    old: KubeObject | undefined,
    url?: URL,
  ): void {
    if (type.kind === "Service" && type.group === "") {
      const problem = this.services.default(object, old);
      if (problem)
        throw invalid(type, object.metadata.name, [
          { reason: "FieldValueInvalid", field: "spec.clusterIP", message: problem },
        ]);
    } else if (type.kind === "Namespace" && type.group === "") {
      object.status = { phase: object.metadata.deletionTimestamp ? "Terminating" : "Active" };
      object.metadata.labels = {
        ...object.metadata.labels,
        "kubernetes.io/metadata.name": object.metadata.name,
      };
    } else if (type.kind === "Pod" && type.group === "" && !old) {
      object.status ??= { phase: "Pending" };
    } else if (type.kind === "CustomResourceDefinition") {
      this.checkCrd(object);
    } else if (type.schema) {
      this.validateCustom(type, object, old, url);
    }
  }

  private validateCustom(
    type: ResourceType,
    object: KubeObject,
    old: KubeObject | undefined,
    url?: URL,
  ): void {
    const pruned = pruneAndDefault(type.schema!, object) as KubeObject;
    const unknown = droppedFields(object, pruned);
    const mode = url?.searchParams.get("fieldValidation") ?? "Warn";
    if (unknown.length > 0 && mode === "Strict") {
      throw failure(
        400,
        `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(", ")}`,
      );
    }
    const causes = validateObject(type.schema!, pruned, old);
    if (causes.length > 0) throw invalid(type, object.metadata.name, causes);
    for (const key of Object.keys(object)) delete object[key];
    Object.assign(object, pruned);
  }

  // ---- CustomResourceDefinitions ----

  private checkCrd(object: KubeObject): void {
    const crd = object as CrdObject & KubeObject;
    const crdType = this.types.get(CRD_KEY)!;
    const spec = crd.spec;
    const names = spec?.names;
    const causes: FieldCause[] = [];
    if (!spec?.group) causes.push(required("spec.group"));
    if (!names?.plural) causes.push(required("spec.names.plural"));
    if (!names?.kind) causes.push(required("spec.names.kind"));
    if (spec?.scope !== "Namespaced" && spec?.scope !== "Cluster") {
      causes.push({
        reason: "FieldValueNotSupported",
        field: "spec.scope",
        message: `Unsupported value: "${String(spec?.scope)}": supported values: "Cluster", "Namespaced"`,
      });
    }
    if (spec?.group && names?.plural && object.metadata.name !== `${names.plural}.${spec.group}`) {
      causes.push({
        reason: "FieldValueInvalid",
        field: "metadata.name",
        message: `Invalid value: "${object.metadata.name}": must be spec.names.plural+"."+spec.group`,
      });
    }
    (spec?.versions ?? []).forEach((version, i) => {
      const compiled = compileSchema(
        version.schema?.openAPIV3Schema ?? {
          type: "object",
          "x-kubernetes-preserve-unknown-fields": true,
        },
      );
      if ("problems" in compiled) {
        for (const problem of compiled.problems) {
          causes.push({
            reason: "FieldValueInvalid",
            field: `spec.versions[${i}].schema.openAPIV3Schema`,
            message: `Invalid value: "object": ${problem}`,
          });
        }
      }
    });
    if (!spec?.versions?.length) causes.push(required("spec.versions"));
    if (causes.length > 0) throw invalid(crdType, object.metadata.name, causes);
    object.status = {
      conditions: [
        {
          type: "NamesAccepted",
          status: "True",
          reason: "NoConflicts",
          message: "no conflicts found",
          lastTransitionTime: now(),
        },
        {
          type: "Established",
          status: "True",
          reason: "InitialNamesAccepted",
          message: "the initial names have been accepted",
          lastTransitionTime: now(),
        },
      ],
      acceptedNames: {
        ...names,
        listKind: names?.listKind ?? `${names?.kind}List`,
        singular: names?.singular ?? names?.kind?.toLowerCase(),
      },
      storedVersions: (spec?.versions ?? []).filter((v) => v.storage).map((v) => v.name),
    };
  }

  /** Serves every served version of a CRD's resource, from now on. */
  private registerCrd(object: KubeObject): void {
    this.unregisterCrd(object.metadata.name, true);
    const spec = (object as CrdObject).spec!;
    const names = spec.names!;
    for (const version of spec.versions ?? []) {
      if (version.served === false) continue;
      const compiled = compileSchema(
        version.schema?.openAPIV3Schema ?? {
          type: "object",
          "x-kubernetes-preserve-unknown-fields": true,
        },
      );
      if ("problems" in compiled) continue;
      const type: ResourceType = {
        group: spec.group!,
        version: version.name!,
        kind: names.kind!,
        listKind: names.listKind ?? `${names.kind}List`,
        plural: names.plural!,
        singular: names.singular ?? names.kind!.toLowerCase(),
        shortNames: names.shortNames ?? [],
        categories: names.categories ?? [],
        namespaced: spec.scope === "Namespaced",
        statusSubresource: version.subresources?.status !== undefined,
        selectableFields: (version.selectableFields ?? []).map((f) =>
          f.jsonPath.replace(/^\./, ""),
        ),
        // As in Kubernetes, Age is a default column only when the CRD declares none.
        printerColumns: version.additionalPrinterColumns?.length
          ? version.additionalPrinterColumns
          : [{ name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" }],
        schema: compiled.schema,
        openApiSchema: version.schema?.openAPIV3Schema,
        crd: object.metadata.name,
      };
      this.types.set(resourceKey(type), type);
    }
  }

  /** Stops serving a CRD's resources; on deletion its objects go too, with their events. */
  private unregisterCrd(name: string, keepObjects = false): void {
    for (const [key, type] of [...this.types]) {
      if (type.crd !== name) continue;
      if (!keepObjects) {
        for (const object of this.store.list(key))
          this.store.remove(key, object.metadata.namespace, object.metadata.name);
      }
      this.types.delete(key);
    }
  }

  // ---- helpers ----

  private typeOf(groupName: string, version: string, plural: string): ResourceType | undefined {
    return this.types.get(`${groupName}/${version}/${plural}`);
  }

  private namespaceType(): ResourceType {
    return this.typeOf("", "v1", "namespaces")!;
  }

  private ok(
    response: ServerResponse,
    request: IncomingMessage,
    type: ResourceType,
    object: KubeObject,
  ): undefined {
    if (wantsTable(request.headers.accept) && request.method === "GET") {
      this.json(response, 200, table(type, [object], object.metadata.resourceVersion ?? ""));
    } else {
      this.json(response, 200, object);
    }
    return undefined;
  }

  private created(response: ServerResponse, object: KubeObject): undefined {
    this.json(response, 201, object);
    return undefined;
  }

  private send(response: ServerResponse, error: StatusError): void {
    if (response.headersSent) {
      response.end();
      return;
    }
    this.json(response, error.code, error.body);
  }

  private json(response: ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    response.writeHead(code, {
      "Content-Type": "application/json",
      "Content-Length": Buffer.byteLength(text),
    });
    response.end(text);
  }

  private text(response: ServerResponse, code: number, body: string): void {
    response.writeHead(code, { "Content-Type": "text/plain" });
    response.end(body);
  }

  /** POST /devkube/faults {dropWatches, failNext: {count, code}, expire, latencyMs}; GET /devkube/stats. */
  private async handleControl(
    request: IncomingMessage,
    response: ServerResponse,
    path: string,
  ): Promise<void> {
    if (path === "/devkube/stats") return this.json(response, 200, this.requestStats());
    if (path === "/devkube/faults" && request.method === "POST") {
      const body = (await readJson(request)) as {
        dropWatches?: boolean;
        failNext?: { count: number; code?: number };
        expire?: boolean;
        latencyMs?: number;
      };
      if (body.failNext) this.failNext(body.failNext.count, body.failNext.code);
      if (body.expire) this.expireResourceVersions();
      if (body.latencyMs !== undefined) this.setLatency(body.latencyMs);
      if (body.dropWatches) this.dropWatches();
      return this.json(response, 200, { ok: true });
    }
    this.send(response, failure(404, "unknown devkube control endpoint"));
  }
}

function isStatusError(value: unknown): value is StatusError {
  return typeof value === "object" && value !== null && "code" in value && "body" in value;
}

function required(field: string): FieldCause {
  return { reason: "FieldValueRequired", field, message: "Required value" };
}

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
function isName(name: string): boolean {
  return name.length <= 253 && NAME.test(name);
}

function keyOf(object: KubeObject): string {
  return `${object.metadata.namespace ?? ""}/${object.metadata.name}`;
}

/** Everything but metadata and status: what `generation` counts changes of. */
function specOf(object: KubeObject): string {
  const { metadata: _metadata, status: _status, ...rest } = object;
  return JSON.stringify(rest);
}

async function readJson(request: IncomingMessage, optional = false): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY)
      throw failure(413, "request entity too large", undefined, "RequestEntityTooLarge");
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") {
    if (optional) return undefined;
    throw failure(400, "the request body is empty");
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw failure(400, `the request body is not valid JSON: ${(error as Error).message}`);
  }
}

function asObject(body: unknown, type: ResourceType): KubeObject {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw failure(400, `the request body must be a ${type.kind} object`);
  }
  const object = body as KubeObject;
  if (object.kind !== undefined && object.kind !== type.kind) {
    throw failure(
      400,
      `the body is a ${String(object.kind)}, but this endpoint serves ${type.kind}`,
    );
  }
  if (object.apiVersion !== undefined && object.apiVersion !== apiVersionOf(type)) {
    throw failure(
      400,
      `the body has apiVersion ${String(object.apiVersion)}, but this endpoint serves ${apiVersionOf(type)}`,
    );
  }
  object.metadata = (
    typeof object.metadata === "object" && object.metadata !== null ? object.metadata : {}
  ) as KubeObject["metadata"];
  return object;
}

function applyPatch(contentType: string | undefined, current: KubeObject, patch: unknown): unknown {
  const type = (contentType ?? "").split(";")[0]!.trim();
  try {
    if (type === MERGE_PATCH) return mergePatch(current, patch);
    if (type === STRATEGIC_MERGE_PATCH) return strategicMergePatch(current, patch);
    if (type === JSON_PATCH) return jsonPatch(current, patch);
  } catch (error) {
    if (error instanceof PatchError)
      throw failure(422, `the patch could not be applied: ${error.message}`);
    throw error;
  }
  throw failure(
    415,
    `the body of the request was in an unknown format - accepted media types include: ${JSON_PATCH}, ${MERGE_PATCH}, ${STRATEGIC_MERGE_PATCH}`,
  );
}

/** Paths of fields in `before` that pruning removed (unknown to the schema). */
function droppedFields(before: unknown, after: unknown, path = ""): string[] {
  if (typeof before !== "object" || before === null || typeof after !== "object" || after === null)
    return [];
  if (Array.isArray(before)) {
    return Array.isArray(after)
      ? before.flatMap((item, i) => droppedFields(item, after[i], `${path}[${i}]`))
      : [];
  }
  const result: string[] = [];
  for (const [key, value] of Object.entries(before)) {
    const child = path ? `${path}.${key}` : key;
    if (!(key in after)) result.push(child);
    else result.push(...droppedFields(value, (after as Record<string, unknown>)[key], child));
  }
  return result;
}
