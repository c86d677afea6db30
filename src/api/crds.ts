// The CustomResourceDefinitions of Herald's kinds, built from the schemas next to the
// types in src/api, and their YAML as deploy/crds/ holds it.
import { dump } from "js-yaml";
import {
  agentConfigSpecSchema,
  agentConfigStatusSchema,
  AGENT_CONFIG_NAME,
  type AgentConfig,
} from "./agentconfig.ts";
import {
  addressPoolSpecSchema,
  addressPoolStatusSchema,
  GROUP,
  VERSION,
  type AddressPool,
} from "./addresspool.ts";
import {
  bgpAdvertisementSpecSchema,
  bgpAdvertisementStatusSchema,
  type BGPAdvertisement,
} from "./bgpadvertisement.ts";
import { bgpPeerSpecSchema, bgpPeerStatusSchema, type BGPPeer } from "./bgppeer.ts";
import { nodeStateStatusSchema, type NodeState } from "./nodestate.ts";
import type { JSONSchemaProps, ObjectSchema, ValidationRule } from "./openapi.ts";

export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description?: string;
  /** 1: shown only with `kubectl get -o wide`. */
  priority?: number;
}

export interface CustomResourceDefinition {
  apiVersion: "apiextensions.k8s.io/v1";
  kind: "CustomResourceDefinition";
  metadata: { name: string };
  spec: {
    group: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames: string[];
      categories: string[];
    };
    scope: "Cluster";
    versions: {
      name: string;
      served: true;
      storage: true;
      schema: { openAPIV3Schema: JSONSchemaProps };
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
    }[];
  };
}

interface KindDefinition<R extends { kind: string; status?: unknown }> {
  kind: R["kind"];
  plural: string;
  shortNames: string[];
  description: string;
  spec: "spec" extends keyof R ? ObjectSchema<R["spec" & keyof R]> : undefined;
  /** Defaulted to {} when the whole spec is optional, so its fields' defaults apply. */
  specOptional?: boolean;
  status: ObjectSchema<NonNullable<R["status"]>>;
  rules?: ValidationRule[];
  columns: PrinterColumn[];
}

const AGE: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };
const READY: PrinterColumn = {
  name: "Ready",
  type: "string",
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
};

function define<R extends { kind: string; status?: unknown }>(
  definition: KindDefinition<R>,
): KindDefinition<{ kind: string }> {
  return definition as unknown as KindDefinition<{ kind: string }>;
}

// Short names avoid the built-in ones (po, no, ns, ep, svc, …); `kubectl get pools` and
// `kubectl get peers` read as what they list.
const KINDS = [
  define<AddressPool>({
    kind: "AddressPool",
    plural: "addresspools",
    shortNames: ["pool", "pools"],
    description: "Addresses Herald may give to LoadBalancer Services, and how they are announced.",
    spec: addressPoolSpecSchema,
    status: addressPoolStatusSchema,
    columns: [
      { name: "Addresses", type: "string", jsonPath: ".spec.addresses" },
      { name: "Announce", type: "string", jsonPath: ".spec.announce" },
      { name: "IPv4 Allocated", type: "string", jsonPath: ".status.allocated.ipv4" },
      { name: "IPv4 Available", type: "string", jsonPath: ".status.available.ipv4" },
      { name: "IPv6 Allocated", type: "string", jsonPath: ".status.allocated.ipv6", priority: 1 },
      { name: "IPv6 Available", type: "string", jsonPath: ".status.available.ipv6", priority: 1 },
      READY,
      AGE,
    ],
  }),
  define<BGPPeer>({
    kind: "BGPPeer",
    plural: "bgppeers",
    shortNames: ["peer", "peers"],
    description: "A BGP router the nodes' BIRD peers with to advertise routed addresses.",
    spec: bgpPeerSpecSchema,
    status: bgpPeerStatusSchema,
    columns: [
      { name: "Peer Address", type: "string", jsonPath: ".spec.peerAddress" },
      { name: "Peer ASN", type: "integer", jsonPath: ".spec.peerASN" },
      { name: "Local ASN", type: "integer", jsonPath: ".spec.localASN" },
      { name: "Port", type: "integer", jsonPath: ".spec.port", priority: 1 },
      { name: "Hold Time", type: "integer", jsonPath: ".spec.holdTime", priority: 1 },
      READY,
      AGE,
    ],
  }),
  define<BGPAdvertisement>({
    kind: "BGPAdvertisement",
    plural: "bgpadvertisements",
    shortNames: ["bgpadv"],
    description: "Which pools' routed addresses are advertised to which BGP peers, and how.",
    spec: bgpAdvertisementSpecSchema,
    status: bgpAdvertisementStatusSchema,
    columns: [
      { name: "Pools", type: "string", jsonPath: ".spec.pools" },
      { name: "Peers", type: "string", jsonPath: ".spec.peers" },
      { name: "Communities", type: "string", jsonPath: ".spec.communities", priority: 1 },
      { name: "Local Pref", type: "integer", jsonPath: ".spec.localPreference", priority: 1 },
      AGE,
    ],
  }),
  define<AgentConfig>({
    kind: "AgentConfig",
    plural: "agentconfigs",
    shortNames: ["agentcfg"],
    description: `Settings of every node agent. Optional; the one that counts is named "${AGENT_CONFIG_NAME}".`,
    spec: agentConfigSpecSchema,
    specOptional: true,
    status: agentConfigStatusSchema,
    rules: [
      {
        rule: `self.metadata.name == '${AGENT_CONFIG_NAME}'`,
        // No fieldPath: the API server accepts only paths into the schema, and metadata has none.
        message: `there is one AgentConfig and it must be named ${AGENT_CONFIG_NAME}`,
      },
    ],
    columns: [
      { name: "Routing", type: "string", jsonPath: ".spec.routing" },
      { name: "Interface", type: "string", jsonPath: ".spec.virtualInterface" },
      AGE,
    ],
  }),
  define<NodeState>({
    kind: "NodeState",
    plural: "nodestates",
    shortNames: ["nst"],
    description: "What one node's Herald agent announces and sees; written by that agent only.",
    spec: undefined,
    status: nodeStateStatusSchema,
    columns: [
      { name: "Local", type: "integer", jsonPath: ".status.counts.local" },
      { name: "Routed", type: "integer", jsonPath: ".status.counts.routed" },
      { name: "BGP Up", type: "integer", jsonPath: ".status.counts.sessionsEstablished" },
      { name: "BGP Sessions", type: "integer", jsonPath: ".status.counts.sessions" },
      { name: "Suspects", type: "integer", jsonPath: ".status.counts.suspects" },
      { name: "Dead", type: "integer", jsonPath: ".status.counts.dead" },
      { name: "Updated", type: "date", jsonPath: ".status.updateTime" },
    ],
  }),
];

export type HeraldKind =
  "AddressPool" | "BGPPeer" | "BGPAdvertisement" | "AgentConfig" | "NodeState";

function openAPIV3Schema(definition: KindDefinition<{ kind: string }>): JSONSchemaProps {
  const properties: Record<string, JSONSchemaProps> = {
    apiVersion: { type: "string" },
    kind: { type: "string" },
    metadata: { type: "object" },
  };
  if (definition.spec) {
    properties.spec = definition.specOptional
      ? { ...(definition.spec as JSONSchemaProps), default: {} }
      : definition.spec;
  }
  properties.status = definition.status;
  const schema: JSONSchemaProps = {
    type: "object",
    description: definition.description,
    properties,
  };
  if (definition.spec && !definition.specOptional) schema.required = ["spec"];
  if (definition.rules) schema["x-kubernetes-validations"] = definition.rules;
  return schema;
}

function build(definition: KindDefinition<{ kind: string }>): CustomResourceDefinition {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${definition.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: definition.kind,
        listKind: `${definition.kind}List`,
        plural: definition.plural,
        singular: definition.kind.toLowerCase(),
        shortNames: definition.shortNames,
        categories: ["herald"],
      },
      scope: "Cluster",
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: openAPIV3Schema(definition) },
          subresources: { status: {} },
          additionalPrinterColumns: definition.columns,
        },
      ],
    },
  };
}

/** Every Herald CRD, in a stable order. */
export function customResourceDefinitions(): CustomResourceDefinition[] {
  return KINDS.map(build);
}

export function customResourceDefinition(kind: HeraldKind): CustomResourceDefinition {
  const definition = KINDS.find((candidate) => candidate.kind === kind);
  if (!definition) throw new Error(`no CRD for kind ${kind}`);
  return build(definition);
}

export const REGENERATE_COMMAND = "node_modules/.bin/node src/api/generate-crds.ts";

/**
 * The files of deploy/crds/, relative to the repository root, with their exact text: one
 * per CRD, and a kustomization listing them, which deploy/base uses as a resource.
 */
export function crdFiles(): { path: string; text: string }[] {
  const header =
    "# Generated from the types in src/api/ by src/api/generate-crds.ts; do not edit.\n" +
    `# Regenerate with: ${REGENERATE_COMMAND}\n`;
  const crds = customResourceDefinitions().map((crd) => ({
    path: `deploy/crds/${crd.metadata.name}.yaml`,
    // CEL quotes its strings with ', which single-quoted YAML would have to double.
    text: header + dump(crd, { lineWidth: -1, noRefs: true, quoteStyle: "double" }),
  }));
  const kustomization = {
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    resources: crds.map((file) => file.path.replace("deploy/crds/", "")),
  };
  return [...crds, { path: "deploy/crds/kustomization.yaml", text: header + dump(kustomization) }];
}
