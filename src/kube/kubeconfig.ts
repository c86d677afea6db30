// The KubeConfig Herald's components use. client-node 2.0 builds a new undici Agent — a
// new connection pool — for every request once any TLS option is set (every real
// cluster; devkube too, through skipTLSVerify), so each API call opens a new TCP and TLS
// connection and leaves the old one to the garbage collector. This KubeConfig keeps the
// first dispatcher of each context and hands it to every later request, as client-go
// reuses one transport. Generated API clients and Watch both go through here.
import { KubeConfig, type RequestContext } from "@kubernetes/client-node";

type Dispatcher = NonNullable<ReturnType<RequestContext["getDispatcher"]>>;

export class PooledKubeConfig extends KubeConfig {
  readonly #dispatchers = new Map<string, Dispatcher>();

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const created = context.getDispatcher();
    if (!created) return;
    const key = this.getCurrentContext();
    const kept = this.#dispatchers.get(key);
    if (!kept) {
      this.#dispatchers.set(key, created);
      return;
    }
    context.setDispatcher(kept);
    // The fresh Agent never connected; closing it frees it at once.
    void created.close();
  }

  /** Closes the kept connections (on shutdown, so that no socket holds the process). */
  async close(): Promise<void> {
    const dispatchers = [...this.#dispatchers.values()];
    this.#dispatchers.clear();
    await Promise.all(dispatchers.map((dispatcher) => dispatcher.close()));
  }
}

/** Loads a kubeconfig file, KUBECONFIG, or the in-cluster service account, like kubectl. */
export function loadKubeConfig(file?: string): PooledKubeConfig {
  const config = new PooledKubeConfig();
  if (file) config.loadFromFile(file);
  else config.loadFromDefault();
  return config;
}
