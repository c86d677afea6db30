// The objects a migration writes: Herald's kinds (and Secrets for BGP passwords), each with
// the comment lines that explain it, collected without duplicate names.
import type { AddressPoolSpec } from "../api/addresspool.ts";
import { API_VERSION } from "../api/addresspool.ts";
import { AGENT_CONFIG_NAME, type AgentConfigSpec } from "../api/agentconfig.ts";
import type { BGPAdvertisementSpec } from "../api/bgpadvertisement.ts";
import type { BGPPeerSpec } from "../api/bgppeer.ts";
import { labelKeyProblem, labelValueProblem, type Labels } from "../api/selector.ts";
import { isDnsSubdomain } from "../api/validation.ts";
import type { Findings, Origin } from "./findings.ts";

/** Which peer object a Herald object was made from, for `kubectl get -o yaml` readers. */
export const MIGRATED_FROM_ANNOTATION = "herald.dev/migrated-from";

/** The agents read BGP passwords only from Secrets in their own namespace. */
export const SECRET_NAMESPACE = "herald-system";

export interface ObjectMetadata {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export type HeraldKind = "Secret" | "AddressPool" | "BGPPeer" | "BGPAdvertisement" | "AgentConfig";

export interface WrittenObject {
  apiVersion: string;
  kind: HeraldKind;
  metadata: ObjectMetadata;
  spec?: AddressPoolSpec | BGPPeerSpec | BGPAdvertisementSpec | AgentConfigSpec;
  type?: string;
  stringData?: Record<string, string>;
}

export interface HeraldObject {
  readonly object: WrittenObject;
  /** Lines written above the object in YAML output: why it looks the way it does. */
  readonly comments: readonly string[];
}

/** Objects that reference others come after them, so `kubectl apply -f` never waits. */
const KIND_ORDER: readonly HeraldKind[] = [
  "Secret",
  "AgentConfig",
  "AddressPool",
  "BGPPeer",
  "BGPAdvertisement",
];

export class Output {
  readonly #objects: HeraldObject[] = [];
  /** "Kind/namespace/name" -> the peer object it was made from. */
  readonly #written = new Map<string, Origin>();
  readonly #findings: Findings;
  /** "MetalLB": names the peer in the migrated-from annotation. */
  readonly #peer: string;

  constructor(peer: string, findings: Findings) {
    this.#peer = peer;
    this.#findings = findings;
  }

  /**
   * false when the object cannot be written: its name is not a valid object name, or an
   * object of that kind and name was already written.
   */
  add(origin: Origin, object: WrittenObject, comments: readonly string[] = []): boolean {
    if (!isDnsSubdomain(object.metadata.name)) {
      this.#findings.warn(
        origin,
        "metadata.name",
        `"${object.metadata.name}" is not a valid object name for a ${object.kind}; not converted`,
      );
      return false;
    }
    object.metadata.labels = this.#validLabels(origin, object.metadata.labels);
    if (object.metadata.labels === undefined) delete object.metadata.labels;
    const key = `${object.kind}/${object.metadata.namespace ?? ""}/${object.metadata.name}`;
    const earlier = this.#written.get(key);
    if (earlier) {
      this.#findings.warn(
        origin,
        undefined,
        `would be written as ${object.kind} "${object.metadata.name}", a name already taken by ${earlier.kind} ${earlier.name} (${earlier.source}); Herald's kinds are cluster-scoped, so this one is left out`,
      );
      return false;
    }
    this.#written.set(key, origin);
    object.metadata.annotations = {
      ...object.metadata.annotations,
      [MIGRATED_FROM_ANNOTATION]: `${this.#peer} ${origin.kind} ${origin.name}`,
    };
    this.#objects.push({ object, comments });
    return true;
  }

  /** The labels the API server accepts; the others are left out with a warning. */
  #validLabels(
    origin: Origin,
    labels: Record<string, string> | undefined,
  ): Record<string, string> | undefined {
    if (!labels) return undefined;
    const kept = Object.entries(labels).filter(([key, value]) => {
      const problem = labelKeyProblem(key) ?? labelValueProblem(value);
      if (problem) this.#findings.warn(origin, "metadata.labels", `${problem}; label left out`);
      return problem === undefined;
    });
    return kept.length > 0 ? Object.fromEntries(kept) : undefined;
  }

  /** Whether a cluster-scoped object of that kind and name was written. */
  has(kind: HeraldKind, name: string): boolean {
    return this.#written.has(`${kind}//${name}`);
  }

  /** In dependency order, each kind in the order written. */
  objects(): HeraldObject[] {
    return KIND_ORDER.flatMap((kind) => this.#objects.filter((item) => item.object.kind === kind));
  }
}

function metadata(name: string, labels: Labels | undefined): ObjectMetadata {
  const result: ObjectMetadata = { name };
  if (labels && Object.keys(labels).length > 0) result.labels = { ...labels };
  return result;
}

export function addressPool(name: string, spec: AddressPoolSpec, labels?: Labels): WrittenObject {
  return { apiVersion: API_VERSION, kind: "AddressPool", metadata: metadata(name, labels), spec };
}

export function bgpPeer(name: string, spec: BGPPeerSpec, labels?: Labels): WrittenObject {
  return { apiVersion: API_VERSION, kind: "BGPPeer", metadata: metadata(name, labels), spec };
}

export function bgpAdvertisement(name: string, spec: BGPAdvertisementSpec): WrittenObject {
  return {
    apiVersion: API_VERSION,
    kind: "BGPAdvertisement",
    metadata: metadata(name, undefined),
    spec,
  };
}

export function agentConfig(spec: AgentConfigSpec): WrittenObject {
  return {
    apiVersion: API_VERSION,
    kind: "AgentConfig",
    metadata: metadata(AGENT_CONFIG_NAME, undefined),
    spec,
  };
}

/** A kubernetes.io/basic-auth Secret, the type MetalLB asks for, with the key Herald reads. */
export function passwordSecret(name: string, password: string): WrittenObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace: SECRET_NAMESPACE },
    type: "kubernetes.io/basic-auth",
    stringData: { password },
  };
}

const NAME_LIMIT = 253;

/** A name for an object that stands for a router: "tor" and "fd00:10::1" -> "tor-fd00-10--1". */
export function addressName(prefix: string, address: string): string {
  return objectName(`${prefix}-${address.replace(/[.:/]/g, "-")}`);
}

/**
 * A valid object name (RFC 1123 subdomain) made from a peer's name or an address:
 * "My Pool" -> "my-pool", "fd00:10::1" -> "fd00-10--1".
 */
export function objectName(text: string): string {
  const name = text
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, "-")
    .replace(/^[^a-z0-9]+/, "")
    .slice(0, NAME_LIMIT)
    .replace(/[^a-z0-9]+$/, "")
    .replace(/\.(?=[^a-z0-9])|(?<=[^a-z0-9])\./g, "-");
  return name === "" ? "unnamed" : name;
}
