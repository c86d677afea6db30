// `herald plan`: what the controller would allocate for a set of pools and services,
// computed offline from YAML, by the same allocator the controller runs.
import { API_VERSION } from "../api/addresspool.ts";
import type { Labels } from "../api/selector.ts";
import type { ServiceObject } from "../api/service.ts";
import type { Logger } from "../log.ts";
import { compilePool, type Pool } from "../ipam/pool.ts";
import { plan, type Plan } from "../ipam/plan.ts";
import { readObjects, type SourcedObject } from "./input.ts";
import { formatTable } from "./table.ts";

export interface PlanOptions {
  readonly files: readonly string[];
  readonly output: "json" | "table";
  readonly classOnly: boolean;
}

export interface CommandIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly stdin: () => Promise<string>;
  readonly log: Logger;
}

/** Runs the command; returns the exit code (0 planned, 1 bad input). */
export async function runPlan(options: PlanOptions, io: CommandIO): Promise<number> {
  const started = performance.now();
  const read = await readObjects(options.files, io.stdin);
  const input = classify(read.objects);
  const problems = [...read.problems, ...input.problems];
  for (const note of input.notes) io.stderr(`note: ${note}\n`);
  if (problems.length > 0) {
    for (const problem of problems) io.stderr(`error: ${problem}\n`);
    io.stderr(
      `herald plan: ${problems.length} problem${problems.length === 1 ? "" : "s"} in the input; nothing planned\n`,
    );
    return 1;
  }
  io.log.debug(
    { pools: input.pools.length, services: input.services.length, ms: performance.now() - started },
    "input read",
  );
  const result = plan({
    pools: input.pools,
    namespaces: input.namespaces,
    services: input.services,
    classOnly: options.classOnly,
  });
  io.log.debug({ ms: performance.now() - started }, "planned");
  io.stdout(options.output === "json" ? planJson(result) : planTable(result));
  return 0;
}

interface ClassifiedInput {
  pools: Pool[];
  namespaces: Map<string, Labels>;
  services: ServiceObject[];
  problems: string[];
  notes: string[];
}

/** Sorts objects by kind, compiles pools, and rejects duplicates. */
function classify(objects: readonly SourcedObject[]): ClassifiedInput {
  const result: ClassifiedInput = {
    pools: [],
    namespaces: new Map(),
    services: [],
    problems: [],
    notes: [],
  };
  const seen = new Map<string, string>();
  const firstSight = (id: string, source: string): boolean => {
    const earlier = seen.get(id);
    if (earlier !== undefined) {
      result.problems.push(
        `${source}: ${id} is also defined in ${earlier}; define each object once`,
      );
      return false;
    }
    seen.set(id, source);
    return true;
  };
  for (const { object, source } of objects) {
    const kind = object.kind;
    const metadata = (object.metadata ?? {}) as {
      name?: unknown;
      namespace?: unknown;
      labels?: unknown;
    };
    const name = typeof metadata.name === "string" ? metadata.name : "";
    if (kind === "AddressPool" && object.apiVersion === API_VERSION) {
      const compiled = compilePool(object);
      const label = `AddressPool "${name || "(no name)"}" (${source})`;
      if (compiled.problems) {
        for (const problem of compiled.problems) result.problems.push(`${label}: ${problem}`);
      } else if (firstSight(`AddressPool "${name}"`, source)) {
        result.pools.push(compiled.pool);
      }
    } else if (kind === "Namespace" && object.apiVersion === "v1") {
      if (firstSight(`Namespace "${name}"`, source)) {
        result.namespaces.set(name, (metadata.labels ?? {}) as Labels);
      }
    } else if (kind === "Service" && object.apiVersion === "v1") {
      const namespace =
        typeof metadata.namespace === "string" && metadata.namespace
          ? metadata.namespace
          : "default";
      if (name === "") result.problems.push(`${source}: a Service needs metadata.name`);
      else if (firstSight(`Service ${namespace}/${name}`, source))
        result.services.push(object as ServiceObject);
    } else {
      const what =
        typeof kind === "string" ? `${kind}${name ? ` "${name}"` : ""}` : "an object without kind";
      const apiVersion = typeof object.apiVersion === "string" ? ` (${object.apiVersion})` : "";
      result.notes.push(
        `${source}: ignoring ${what}${apiVersion}; plan reads ${API_VERSION} AddressPool, v1 Namespace and v1 Service`,
      );
    }
  }
  return result;
}

/** The JSON of DESIGN §6, exactly those fields. */
export function planJson(result: Plan): string {
  return (
    JSON.stringify(
      {
        services: result.services.map(({ namespace, name, addresses, pool, error }) => ({
          namespace,
          name,
          addresses,
          pool,
          error: error && { reason: error.reason, message: error.message },
        })),
        pools: result.pools.map(({ name, capacity, allocated, conditions }) => ({
          name,
          capacity,
          allocated,
          conditions,
        })),
      },
      null,
      2,
    ) + "\n"
  );
}

export function planTable(result: Plan): string {
  const services = formatTable(
    ["SERVICE", "ADDRESSES", "POOL", "STATUS"],
    result.services.map((service) => [
      `${service.namespace}/${service.name}`,
      service.addresses.join(",") || "-",
      service.pool ?? "-",
      service.ignored !== null
        ? `ignored: ${service.ignored}`
        : service.error
          ? `${service.error.reason}: ${service.error.message}`
          : "allocated",
    ]),
  );
  const notes = result.services.flatMap((service) =>
    service.notes.map((note) => `  ${service.namespace}/${service.name}: ${note}`),
  );
  const pools = formatTable(
    ["POOL", "IPV4 ALLOCATED", "IPV6 ALLOCATED", "STATUS"],
    result.pools.map((pool) => {
      const conflict = pool.conditions.find((c) => c.type === "Conflict" && c.status === "True");
      return [
        pool.name,
        usage(pool.allocated.ipv4, pool.capacity.ipv4),
        usage(pool.allocated.ipv6, pool.capacity.ipv6),
        conflict ? `Conflict: ${conflict.message}` : "Ready",
      ];
    }),
  );
  return [services, notes.length > 0 ? `notes:\n${notes.join("\n")}\n` : "", pools]
    .filter(Boolean)
    .join("\n");
}

/** "3/11", or "-" for a family the pool does not have. */
function usage(allocated: string, capacity: string): string {
  return capacity === "0" && allocated === "0" ? "-" : `${allocated}/${capacity}`;
}
