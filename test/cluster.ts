// A devkube "cluster" for tests of components: the server, clients built the way
// production builds them, and Herald's CRDs installed as their JSON (client-node's typed
// models would drop `x-kubernetes-validations` and `default` on the way).
import { CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import { customResourceDefinitions } from "../src/api/crds.ts";
import { DevKube } from "../src/devkube/server.ts";
import { PooledKubeConfig } from "../src/kube/kubeconfig.ts";
import { waitUntil } from "../src/lab/session.ts";

export interface TestCluster {
  kube: DevKube;
  config: PooledKubeConfig;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  /** POSTs JSON to the API; throws with the server's message unless 2xx. */
  post(path: string, body: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

export async function startCluster(options: { crds?: boolean } = {}): Promise<TestCluster> {
  const kube = await DevKube.start({ bookmarkIntervalMs: 1000 });
  const config = new PooledKubeConfig();
  config.loadFromString(kube.kubeconfig());
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${kube.url}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as unknown;
  };
  if (options.crds !== false) await installCrds(post);
  return {
    kube,
    config,
    core: config.makeApiClient(CoreV1Api),
    custom: config.makeApiClient(CustomObjectsApi),
    post,
    stop: async () => {
      await config.close();
      await kube.stop();
    },
  };
}

export async function installCrds(post: TestCluster["post"]): Promise<void> {
  for (const crd of customResourceDefinitions()) {
    await post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
  }
}

/** Polls until `check` returns a value other than undefined/false, or fails after `ms`. */
export function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  ms = 10_000,
): Promise<T> {
  return waitUntil(what, check, ms, 20);
}
