// How Herald builds API clients: like KubeConfig.makeApiClient, plus a client-side rate
// limit (client-go's QPS/Burst) that every request waits on.
//
// client-node v2 runs each request through the Configuration's middleware chain, and a
// promise middleware may wait before passing the request on; that is where the token is
// taken. makeApiClient builds its Configuration internally and offers no way to add
// middleware, so we build the same Configuration ourselves.
import {
  ServerConfiguration,
  createConfiguration,
  type ApiConstructor,
  type ApiType,
  type KubeConfig,
  type Middleware,
} from "@kubernetes/client-node";
import type { TokenBucket } from "./ratelimit.ts";

/** Middleware that holds each request until `limiter` gives it a token. */
export function rateLimitMiddleware(limiter: TokenBucket): Middleware {
  return {
    async pre(ctx) {
      await limiter.wait();
      return ctx;
    },
    async post(ctx) {
      return ctx;
    },
  };
}

export interface ClientOptions {
  /** Shared by every client made with it, so the limit is per process, as in client-go. */
  limiter?: TokenBucket;
  userAgent?: string;
}

export function makeApiClient<T extends ApiType>(
  kc: KubeConfig,
  api: ApiConstructor<T>,
  opts: ClientOptions = {},
): T {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error("kubeconfig has no current cluster");
  const middleware: Middleware[] = [
    {
      async pre(ctx) {
        ctx.setHeaderParam("User-Agent", opts.userAgent ?? "herald");
        return ctx;
      },
      async post(ctx) {
        return ctx;
      },
    },
  ];
  if (opts.limiter !== undefined) middleware.push(rateLimitMiddleware(opts.limiter));
  return new api(
    createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      // KubeConfig is the SecurityAuthentication that adds tokens, client certificates and
      // the TLS agent to each request — exactly what makeApiClient passes.
      authMethods: { default: kc },
      promiseMiddleware: middleware,
    }),
  );
}
