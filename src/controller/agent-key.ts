// The agents' failure-detector key: a Secret of 32 random bytes that every agent reads.
// `kubectl apply` cannot create a Secret with a random value only when it is missing, and
// a key in the manifests would be the same, public key in every cluster; so the leading
// controller creates it when it is absent. An existing key is never replaced: rotating it
// is the operator's act (docs/operations.md), and agents tolerate the old one for a while.
import { randomBytes } from "node:crypto";
import type { Logger } from "../log.ts";
import { ApiError, type RawClient } from "../kube/raw.ts";

export const DEFAULT_AGENT_KEY_SECRET = "herald-agent-key";

export type AgentKeyOutcome = "present" | "created" | "failed";

/** Creates the Secret `namespace/name` with a fresh `key` unless it exists. */
export async function ensureAgentKey(
  raw: Pick<RawClient, "request">,
  namespace: string,
  name: string,
  log: Logger,
): Promise<AgentKeyOutcome> {
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`;
  try {
    await raw.request("GET", `${path}/${encodeURIComponent(name)}`);
    return "present";
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== 404) {
      log.warn({ err: String(error), secret: name }, "could not read the agents' key Secret");
      return "failed";
    }
  }
  try {
    await raw.request("POST", path, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name, namespace, labels: { "app.kubernetes.io/part-of": "herald" } },
      type: "Opaque",
      data: { key: randomBytes(32).toString("base64") },
    });
    log.info({ secret: `${namespace}/${name}` }, "created the agents' failure-detector key");
    return "created";
  } catch (error) {
    // Another replica, or the operator, got there first: theirs stands.
    if (error instanceof ApiError && error.code === 409) return "present";
    log.warn({ err: String(error), secret: name }, "could not create the agents' key Secret");
    return "failed";
  }
}
