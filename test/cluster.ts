// A "cluster" for tests of components: an API server, clients built the way production
// builds them, and Herald's CRDs installed as their JSON (client-node's typed models
// would drop `x-kubernetes-validations` and `default` on the way).
//
// One suite, two backends: devkube by default (in this process, fast), or with
// HERALD_TEST_KUBE=real a real etcd + kube-apiserver built by scripts/k8s.sh, with TLS,
// client certificates and Node,RBAC authorization. A test that needs one of devkube's
// fault injections asks for `cluster.devkube` and is skipped, by name, on the other.
import { CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import { customResourceDefinitions } from "../src/api/crds.ts";
import { DevKube } from "../src/devkube/server.ts";
import { PooledKubeConfig } from "../src/kube/kubeconfig.ts";
import { RawClient } from "../src/kube/raw.ts";
import { waitUntil } from "../src/lab/session.ts";
import { RealKube } from "../src/realkube/real-kube.ts";

export type Backend = "devkube" | "real";

/** The backend this test run uses: HERALD_TEST_KUBE=real|devkube (default devkube). */
export const BACKEND: Backend = process.env.HERALD_TEST_KUBE === "real" ? "real" : "devkube";

/** For `it(..., { skip: devkubeOnly("why") })`: skipped, with the reason, on a real server. */
export function devkubeOnly(why: string): string | false {
  return BACKEND === "real" ? `devkube only: ${why}` : false;
}

export interface TestCluster {
  readonly backend: Backend;
  /** The in-process devkube, for its fault injection and counters; undefined on a real server. */
  readonly devkube: DevKube | undefined;
  /** The real control plane; undefined on devkube. */
  readonly real: RealKube | undefined;
  readonly url: string;
  /** A kubeconfig (admin) as text, for kubectl and other processes. */
  kubeconfig(): string;
  config: PooledKubeConfig;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  /** Plain JSON requests as the admin; throws ApiError (with .code) unless 2xx. */
  request(
    method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<unknown>;
  /** POSTs JSON to the API; throws with the server's message unless 2xx. */
  post(path: string, body: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  crds?: boolean;
  /** Start kube-controller-manager beside a real API server (ignored on devkube). */
  controllerManager?: boolean;
  /**
   * devkube only: how often it sends a bookmark to each watch that asks for them (default
   * 1000 ms). A real API server keeps its own pace, about one a minute, and ignores this.
   */
  bookmarkIntervalMs?: number;
  backend?: Backend;
  /** A real API server only: this kube-apiserver binary instead of the cache's. */
  apiserver?: string;
}

export async function startCluster(options: ClusterOptions = {}): Promise<TestCluster> {
  const backend = options.backend ?? BACKEND;
  let devkube: DevKube | undefined;
  let real: RealKube | undefined;
  let kubeconfig: string;
  if (backend === "real") {
    real = await RealKube.start({
      controllerManager: options.controllerManager ?? false,
      ...(options.apiserver ? { apiserver: options.apiserver } : {}),
    });
    kubeconfig = real.adminKubeconfig();
  } else {
    devkube = await DevKube.start({ bookmarkIntervalMs: options.bookmarkIntervalMs ?? 1000 });
    kubeconfig = devkube.kubeconfig();
  }
  const config = new PooledKubeConfig();
  config.loadFromString(kubeconfig);
  const raw = new RawClient(config);
  const request: TestCluster["request"] = (method, path, body, contentType) =>
    raw.request(
      method,
      path,
      body,
      contentType ?? (body === undefined ? undefined : "application/json"),
    );
  const post = (path: string, body: unknown) => request("POST", path, body);
  if (options.crds !== false) await installCrds(post, backend, request);
  return {
    backend,
    devkube,
    real,
    url: config.getCurrentCluster()!.server,
    kubeconfig: () => kubeconfig,
    config,
    core: config.makeApiClient(CoreV1Api),
    custom: config.makeApiClient(CustomObjectsApi),
    request,
    post,
    stop: async () => {
      await config.close();
      await devkube?.stop();
      await real?.stop();
    },
  };
}

export async function installCrds(
  post: TestCluster["post"],
  backend: Backend = BACKEND,
  request?: TestCluster["request"],
): Promise<void> {
  const crds = customResourceDefinitions();
  for (const crd of crds)
    await post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
  // A real API server serves a new CRD's resources only once it is Established, a moment
  // after the create returns; devkube serves them at once.
  if (backend === "real" && request)
    await waitFor(
      "the CRDs to be established",
      async () => {
        for (const crd of crds) {
          const stored = (await request(
            "GET",
            `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`,
          )) as { status?: { conditions?: { type: string; status: string }[] } };
          if (
            !stored.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")
          )
            return false;
        }
        return true;
      },
      30_000,
    );
}

/** Polls until `check` returns a value other than undefined/false, or fails after `ms`. */
export function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  ms = 10_000,
): Promise<T> {
  return waitUntil(what, check, ms, 20);
}
