// The KubeConfig Herald's components use. client-node 2.0 builds a new undici Agent — a
// new connection pool — for every request once any TLS option is set (every real
// cluster; devkube too, through skipTLSVerify), so each API call opens a new TCP and TLS
// connection and leaves the old one to the garbage collector. This KubeConfig keeps the
// first dispatcher of each context and hands it to every later request, as client-go
// reuses one transport. Generated API clients and Watch both go through here.
//
// Once a context has its dispatcher, no other is built at all: building an Agent per
// request and closing it unused (undici makes an Error, stack and all, for each closed
// Agent) was about 5% of the controller's CPU in a burst of status writes.
import { KubeConfig, type Cluster, type RequestContext } from "@kubernetes/client-node";

type Dispatcher = NonNullable<ReturnType<RequestContext["getDispatcher"]>>;
type DispatcherOptions = ReturnType<KubeConfig["createDispatcherOptions"]>;

export class PooledKubeConfig extends KubeConfig {
  readonly #dispatchers = new Map<string, Dispatcher>();

  // client-node builds the dispatcher from these options; "none" builds nothing. The
  // options are still worked out first, so that a configuration client-node refuses
  // (plain HTTP without skipTLSVerify) is refused on every request as before.
  override createDispatcherOptions(
    cluster: Cluster | null,
    agentOptions: Parameters<KubeConfig["createDispatcherOptions"]>[1],
  ): DispatcherOptions {
    const options = super.createDispatcherOptions(cluster, agentOptions);
    return this.#dispatchers.has(this.getCurrentContext()) ? { type: "none" } : options;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const key = this.getCurrentContext();
    const created = context.getDispatcher();
    const kept = this.#dispatchers.get(key);
    if (!kept) {
      if (created) this.#dispatchers.set(key, created);
      return;
    }
    context.setDispatcher(kept);
    // Two first requests at once both built one; the later one never connected, and
    // closing it frees it at once.
    if (created && created !== kept) void created.close();
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
