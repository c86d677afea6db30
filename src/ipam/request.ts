// Reads a Service into what it asks of the allocator: families, requested addresses,
// pools, sharing terms and the addresses it already holds. Pure: no defaults from a
// cluster beyond what the Service itself says.
import type { Labels } from "../api/selector.ts";
import {
  ADDRESSES_ANNOTATIONS,
  HERALD_CLASS,
  POOL_ANNOTATIONS,
  SHARING_KEY_ANNOTATIONS,
  type IPFamilyPolicy,
  type ServiceObject,
} from "../api/service.ts";
import { otherFamily, parseAddress, type Address, type Family } from "../ip.ts";

/** Why a service cannot get (all) its addresses; ends up in its Allocated condition. */
export type Reason = "PoolExhausted" | "InvalidRequest" | "NoMatchingPool" | "SharingConflict";

export interface Failure {
  readonly reason: Reason;
  readonly message: string;
}

/** What decides whether two services may share an address. */
export interface SharingTerms {
  readonly key: string | undefined;
  /** "TCP/80", … */
  readonly ports: readonly string[];
  readonly trafficPolicy: "Cluster" | "Local";
  /** spec.selector as canonical JSON; must match between Local services. */
  readonly selector: string;
}

export interface ServiceRequest {
  /** namespace/name */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  /** Why Herald leaves the service alone (not a LoadBalancer, another class). */
  readonly ignored: string | undefined;
  /** Families to allocate, primary first. */
  readonly families: readonly Family[];
  readonly policy: IPFamilyPolicy;
  readonly requested: Readonly<Partial<Record<Family, Address>>>;
  /** Where `requested` came from, for messages ("herald.dev/addresses", …). */
  readonly requestedBy: string;
  /** Pools named by annotation: the search is limited to them. */
  readonly pools: readonly string[] | undefined;
  readonly poolsBy: string;
  readonly sharing: SharingTerms;
  /** Addresses in status.loadBalancer.ingress, first of each family. */
  readonly held: readonly Address[];
  /** A malformed request: what is held stays, nothing new is allocated. */
  readonly invalid: Failure | undefined;
}

export interface ReadOptions {
  /** Serve only services whose loadBalancerClass is ours, not those without a class. */
  readonly classOnly?: boolean;
}

const POLICIES: readonly IPFamilyPolicy[] = ["SingleStack", "PreferDualStack", "RequireDualStack"];

export function readService(service: ServiceObject, options: ReadOptions = {}): ServiceRequest {
  const namespace = service.metadata?.namespace || "default";
  const name = service.metadata?.name ?? "";
  const problems: string[] = [];
  const annotations = typedAnnotations(service.metadata?.annotations, problems);
  const spec = typedSpec(service.spec, problems);

  const ignored =
    spec.type !== "LoadBalancer"
      ? `type is ${spec.type ?? "ClusterIP"}, not LoadBalancer`
      : spec.loadBalancerClass !== undefined && spec.loadBalancerClass !== HERALD_CLASS
        ? `loadBalancerClass is ${spec.loadBalancerClass}`
        : spec.loadBalancerClass === undefined && options.classOnly
          ? `it has no loadBalancerClass and Herald serves only ${HERALD_CLASS}`
          : undefined;

  const requests = readRequestedAddresses(spec.loadBalancerIP, annotations, problems);
  const pools = readPools(annotations, problems);
  const { families, policy } = readFamilies(spec, requests.order, problems);
  for (const family of requests.order) {
    if (!families.includes(family)) {
      problems.push(
        `${requests.by} asks for an ${family} address, but the service's families are ${families.join(" and ")}`,
      );
    }
  }

  const trafficPolicy = spec.externalTrafficPolicy ?? "Cluster";
  if (trafficPolicy !== "Cluster" && trafficPolicy !== "Local") {
    problems.push(`spec.externalTrafficPolicy "${trafficPolicy}" must be Cluster or Local`);
  }
  const sharingKey = firstAnnotation(annotations, SHARING_KEY_ANNOTATIONS);
  const sharing: SharingTerms = {
    key: sharingKey?.value.trim() || undefined,
    ports: (spec.ports ?? []).map((port) => `${port.protocol ?? "TCP"}/${port.port}`),
    trafficPolicy: trafficPolicy === "Local" ? "Local" : "Cluster",
    selector: canonicalSelector(spec.selector),
  };

  const held: Address[] = [];
  const ingresses = service.status?.loadBalancer?.ingress;
  for (const ingress of Array.isArray(ingresses) ? ingresses : []) {
    const ip: unknown = (ingress as { ip?: unknown } | null)?.ip;
    const address = typeof ip === "string" ? parseAddress(ip) : undefined;
    if (address && !held.some((h) => h.family === address.family)) held.push(address);
  }

  return {
    key: `${namespace}/${name}`,
    namespace,
    name,
    labels: service.metadata?.labels ?? {},
    ignored,
    families,
    policy,
    requested: requests.byFamily,
    requestedBy: requests.by,
    pools: pools?.names,
    poolsBy: pools?.by ?? POOL_ANNOTATIONS[0],
    sharing,
    held,
    invalid:
      problems.length > 0 ? { reason: "InvalidRequest", message: problems.join("; ") } : undefined,
  };
}

type ServiceSpec = NonNullable<ServiceObject["spec"]>;

const STRING_FIELDS = [
  "type",
  "loadBalancerClass",
  "loadBalancerIP",
  "clusterIP",
  "ipFamilyPolicy",
  "externalTrafficPolicy",
] as const;
const STRING_LIST_FIELDS = ["clusterIPs", "ipFamilies"] as const;

/**
 * The spec with every field of the wrong JSON type left out, each named in `problems`.
 * kube-apiserver's typed decoding never stores such a Service, but a Service is read from
 * wherever it came (devkube, an old record, a test): one that cannot be read as typed must
 * get its condition, not stop the controller from serving the others.
 */
function typedSpec(raw: unknown, problems: string[]): ServiceSpec {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== "object" || Array.isArray(raw)) {
    problems.push("spec is not an object");
    return {};
  }
  const source = raw as Record<string, unknown>;
  const spec: Record<string, unknown> = {};
  const wrong = (field: string, want: string) =>
    problems.push(
      `spec.${field} must be ${want}, not ${JSON.stringify(source[field]) ?? typeof source[field]}`,
    );
  for (const field of STRING_FIELDS) {
    const value = source[field];
    if (value === undefined || value === null) continue;
    if (typeof value === "string") spec[field] = value;
    else wrong(field, "a string");
  }
  for (const field of STRING_LIST_FIELDS) {
    const value = source[field];
    if (value === undefined || value === null) continue;
    if (Array.isArray(value) && value.every((item) => typeof item === "string"))
      spec[field] = value;
    else wrong(field, "a list of strings");
  }
  const selector = source.selector;
  if (selector !== undefined && selector !== null) {
    if (
      typeof selector === "object" &&
      !Array.isArray(selector) &&
      Object.values(selector).every((v) => typeof v === "string")
    )
      spec.selector = selector;
    else wrong("selector", "a map of strings");
  }
  const ports = source.ports;
  if (ports !== undefined && ports !== null) {
    const valid =
      Array.isArray(ports) &&
      ports.every(
        (port) =>
          typeof port === "object" &&
          port !== null &&
          typeof (port as { port?: unknown }).port === "number" &&
          ["string", "undefined"].includes(typeof (port as { protocol?: unknown }).protocol),
      );
    if (valid) spec.ports = ports;
    else wrong("ports", "a list of ports with a numeric port");
  }
  return spec as ServiceSpec;
}

/** The annotations whose values are strings; any other is named in `problems`. */
function typedAnnotations(raw: unknown, problems: string[]): Readonly<Record<string, string>> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return {};
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value === "string") annotations[key] = value;
    else if (key.includes("herald.dev/") || key.includes("metallb") || key.includes("purelb"))
      problems.push(`annotation ${key} must be a string`);
  }
  return annotations;
}

function firstAnnotation(
  annotations: Readonly<Record<string, string>>,
  names: readonly string[],
): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = annotations[name];
    if (typeof value === "string") return { name, value };
  }
  return undefined;
}

interface RequestedAddresses {
  byFamily: Partial<Record<Family, Address>>;
  /** Families in the order they were written. */
  order: Family[];
  by: string;
}

function readRequestedAddresses(
  loadBalancerIP: string | undefined,
  annotations: Readonly<Record<string, string>>,
  problems: string[],
): RequestedAddresses {
  const result: RequestedAddresses = { byFamily: {}, order: [], by: "spec.loadBalancerIP" };
  const annotation = firstAnnotation(annotations, ADDRESSES_ANNOTATIONS);
  const fieldText = loadBalancerIP?.trim() || undefined;
  let field: Address | undefined;
  if (fieldText !== undefined) {
    field = parseAddress(fieldText);
    if (!field) problems.push(`spec.loadBalancerIP "${fieldText}" is not an IP address`);
  }
  if (annotation) {
    result.by = annotation.name;
    const texts = annotation.value
      .split(",")
      .map((text) => text.trim())
      .filter((text) => text !== "");
    for (const text of texts) {
      const address = parseAddress(text);
      if (!address) {
        problems.push(`${annotation.name} lists "${text}", which is not an IP address`);
        continue;
      }
      if (result.byFamily[address.family]) {
        problems.push(
          `${annotation.name} lists two ${address.family} addresses; give at most one per family`,
        );
        continue;
      }
      result.byFamily[address.family] = address;
      result.order.push(address.family);
    }
    if (texts.length === 0) problems.push(`${annotation.name} is set but lists no address`);
    // The field and the annotation may both be given only if they agree.
    if (field) {
      const same = result.byFamily[field.family];
      if (!same || same.value !== field.value) {
        problems.push(
          `spec.loadBalancerIP ${fieldText} differs from ${annotation.name} "${annotation.value}"; keep one`,
        );
      }
    }
  } else if (field) {
    result.byFamily[field.family] = field;
    result.order.push(field.family);
  }
  return result;
}

function readPools(
  annotations: Readonly<Record<string, string>>,
  problems: string[],
): { names: string[]; by: string } | undefined {
  const annotation = firstAnnotation(annotations, POOL_ANNOTATIONS);
  if (!annotation) return undefined;
  const names = [
    ...new Set(
      annotation.value
        .split(",")
        .map((name) => name.trim())
        .filter((name) => name !== ""),
    ),
  ];
  if (names.length === 0) problems.push(`${annotation.name} is set but names no pool`);
  if (names.length > 2) {
    problems.push(`${annotation.name} names ${names.length} pools; give one, or one per family`);
  }
  return { names, by: annotation.name };
}

function readFamilies(
  spec: NonNullable<ServiceObject["spec"]>,
  requestedOrder: readonly Family[],
  problems: string[],
): { families: Family[]; policy: IPFamilyPolicy } {
  let policy: IPFamilyPolicy = "SingleStack";
  if (spec.ipFamilyPolicy !== undefined) {
    if ((POLICIES as readonly string[]).includes(spec.ipFamilyPolicy)) {
      policy = spec.ipFamilyPolicy as IPFamilyPolicy;
    } else
      problems.push(
        `spec.ipFamilyPolicy "${spec.ipFamilyPolicy}" must be SingleStack, PreferDualStack or RequireDualStack`,
      );
  }
  let families: Family[] = [];
  // Whether the families were chosen by the API server (ipFamilies or clusterIPs).
  let fromCluster: boolean;
  if (spec.ipFamilies && spec.ipFamilies.length > 0) {
    fromCluster = true;
    for (const family of spec.ipFamilies) {
      if (family !== "IPv4" && family !== "IPv6") {
        problems.push(`spec.ipFamilies lists "${String(family)}"; use IPv4 or IPv6`);
      } else if (!families.includes(family)) {
        families.push(family);
      }
    }
  } else {
    const clusterIPs = spec.clusterIPs?.length
      ? spec.clusterIPs
      : spec.clusterIP
        ? [spec.clusterIP]
        : [];
    for (const ip of clusterIPs) {
      const address = parseAddress(ip);
      if (address && !families.includes(address.family)) families.push(address.family);
    }
    fromCluster = families.length > 0;
    if (!fromCluster) families = [...requestedOrder];
  }
  if (families.length === 0) families = ["IPv4"];
  if (policy === "SingleStack") return { families: families.slice(0, 1), policy };
  // ipFamilies written by the API server already say which families the cluster has; a
  // PreferDualStack service with one family there lives in a single-stack cluster.
  if (families.length === 1 && (policy === "RequireDualStack" || !fromCluster)) {
    families.push(otherFamily(families[0]!));
  }
  return { families, policy };
}

function canonicalSelector(selector: Record<string, string> | undefined): string {
  if (!selector) return "{}";
  return JSON.stringify(
    Object.fromEntries(Object.entries(selector).sort(([a], [b]) => (a < b ? -1 : 1))),
  );
}
