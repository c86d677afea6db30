// `herald status`: reads pools, services, NodeStates, Nodes and NotAnnounced events from the
// live API and prints what status-view.ts makes of them (as text, status-text.ts). Only the
// reading is here.
import { GROUP, VERSION } from "../api/addresspool.ts";
import { loadKubeConfig, type PooledKubeConfig } from "../kube/kubeconfig.ts";
import { ApiError, RawClient } from "../kube/raw.ts";
import type { CommandIO } from "./plan.ts";
import { statusText } from "./status-text.ts";
import { statusJson, statusView, type StatusInput } from "./status-view.ts";

export interface StatusOptions {
  /** Absent: KUBECONFIG, ~/.kube/config, or in-cluster, as kubectl. */
  readonly kubeconfig?: string;
  readonly output: "text" | "json";
  readonly classOnly: boolean;
  /** The time uptimes and ages are measured from (tests pin it). */
  readonly now?: number;
  /** How long one API request may take; 15 s unless set (tests shorten it). */
  readonly requestTimeoutMs?: number;
}

const POOLS = `/apis/${GROUP}/${VERSION}/addresspools`;
const NODE_STATES = `/apis/${GROUP}/${VERSION}/nodestates`;
// Pages keep one response small on a cluster with thousands of services.
const PAGE = 500;
// Someone is waiting at a terminal: a server that accepts the connection and then says
// nothing (a dead apiserver behind a live load balancer) is reported after this, not after
// the client's 60 s meant for the controller.
const REQUEST_TIMEOUT_MS = 15_000;

/** Runs the command; returns the exit code (0 shown, 1 API unreachable or Herald missing). */
export async function runStatus(options: StatusOptions, io: CommandIO): Promise<number> {
  let config: PooledKubeConfig;
  try {
    config = loadKubeConfig(options.kubeconfig);
  } catch (error) {
    io.stderr(`herald status: cannot load the kubeconfig: ${describe(error)}\n`);
    return 1;
  }
  const server = config.getCurrentCluster()?.server ?? "(no server in the kubeconfig)";
  try {
    const raw = new RawClient(config, undefined, { timeoutMs: requestTimeout(options) });
    const input = await readCluster(raw, options, server, io);
    if (typeof input === "string") {
      io.stderr(`herald status: ${input}\n`);
      return 1;
    }
    const view = statusView(input);
    io.stdout(options.output === "json" ? statusJson(view) : statusText(view, input.now));
    return 0;
  } finally {
    await config.close();
  }
}

/** The objects the view needs, or why there are none (a sentence for stderr). */
async function readCluster(
  raw: RawClient,
  options: StatusOptions,
  server: string,
  io: CommandIO,
): Promise<StatusInput | string> {
  // Pools first, alone: the one request that tells an unreachable server and a cluster
  // without Herald apart from a cluster to show.
  let pools: unknown[];
  try {
    pools = await listAll(raw, POOLS);
  } catch (error) {
    if (error instanceof ApiError && error.code === 404)
      return (
        `Herald is not installed on the cluster at ${server}: it has no ${GROUP}/${VERSION} ` +
        "AddressPools. Install Herald (kubectl apply -f deploy/herald.yaml), or only its CRDs (kubectl apply -k deploy/crds)."
      );
    return unreachable(error, server, options);
  }
  const warnings: string[] = [];
  // The rest may be partial: a role that may not list Nodes or events still sees the rest.
  const optional = async (
    what: string,
    path: string,
    fieldSelector?: string,
  ): Promise<unknown[] | undefined> => {
    try {
      return await listAll(raw, path, fieldSelector);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      io.log.debug({ path, code: error.code }, "list failed");
      warnings.push(`could not list ${what}: ${error.code} ${reasonOf(error)}`);
      return undefined;
    }
  };
  try {
    const [services, nodeStates, nodes, events] = await Promise.all([
      optional("Services", "/api/v1/services"),
      optional("NodeStates", NODE_STATES),
      optional("Nodes", "/api/v1/nodes"),
      // Only the agent's reason; the API server filters, so a busy cluster's events stay there.
      optional("events", "/api/v1/events", "reason=NotAnnounced"),
    ]);
    return {
      pools,
      services: services ?? [],
      nodeStates: nodeStates ?? [],
      nodes,
      events,
      classOnly: options.classOnly,
      now: options.now ?? Date.now(),
      warnings,
    };
  } catch (error) {
    return unreachable(error, server, options);
  }
}

async function listAll(raw: RawClient, path: string, fieldSelector?: string): Promise<unknown[]> {
  const all: unknown[] = [];
  let next: string | undefined;
  do {
    const page = await raw.list<unknown>(path, {
      limit: PAGE,
      fieldSelector,
      _continue: next,
    });
    all.push(...(Array.isArray(page.items) ? page.items : []));
    next = page.metadata?._continue || undefined;
  } while (next !== undefined);
  return all;
}

function requestTimeout(options: StatusOptions): number {
  return options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
}

function unreachable(error: unknown, server: string, options: StatusOptions): string {
  if (error instanceof ApiError)
    return `the API server at ${server} refused: ${error.code} ${reasonOf(error)}`;
  if (error instanceof Error && error.name === "TimeoutError")
    return `the Kubernetes API server at ${server} did not answer within ${requestTimeout(options) / 1000} s`;
  return `cannot reach the Kubernetes API server at ${server}: ${describe(error)}`;
}

/** The Status message Kubernetes puts in an error body, else the body's start. */
function reasonOf(error: ApiError): string {
  try {
    const message = (JSON.parse(error.body) as { message?: unknown }).message;
    if (typeof message === "string") return message;
  } catch {
    // Not JSON: a proxy's page, or "404 page not found".
  }
  return error.body.slice(0, 200).trim();
}

/** fetch says only "fetch failed"; the reason (ECONNREFUSED, a TLS error) is in its cause. */
function describe(error: unknown): string {
  const messages: string[] = [];
  for (let e: unknown = error; e instanceof Error && messages.length < 4; e = e.cause) {
    if (!messages.includes(e.message)) messages.push(e.message);
  }
  return messages.length > 0 ? messages.join(": ") : String(error);
}
