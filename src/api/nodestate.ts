// NodeState (herald.dev/v1alpha1): what one node's agent is doing, named after the node and
// written only by that agent. It has no spec: nothing in it is a request.
import type { Condition, ObjectMeta } from "./meta.ts";
import { conditionsSchema, objectSchema, type ObjectSchema } from "./openapi.ts";
import type { API_VERSION } from "./addresspool.ts";

/** On a NodeState: its agent is restarting; peers leave its addresses alone until then. */
export const RESTARTING_ANNOTATION = "herald.dev/restarting-until";

/**
 * On a NodeState: its agent is stopping for good (the node is drained, shut down or
 * removed), with why; peers take its addresses over, make-before-break. The next agent on
 * the node removes it.
 */
export const LEAVING_ANNOTATION = "herald.dev/leaving";

export const ANNOUNCEMENT_MODES = ["Local", "Routed"] as const;

/** How this node announces an address: on a real interface (ARP/NDP) or on kube-lb0 (BGP). */
export type AnnouncementMode = (typeof ANNOUNCEMENT_MODES)[number];

export interface AnnouncedAddress {
  address: string;
  /** "namespace/name" of every service holding the address (more than one when shared). */
  services: string[];
  mode: AnnouncementMode;
  interface: string;
  /**
   * When this node started announcing it (RFC 3339 with milliseconds). Of two nodes that
   * both list a local address — a handover in progress, or a node that died holding it —
   * the later one is the holder.
   */
  since?: string;
}

/** RFC 4271 §8 finite-state machine states, as BIRD reports them. */
export const BGP_SESSION_STATES = [
  "Idle",
  "Connect",
  "Active",
  "OpenSent",
  "OpenConfirm",
  "Established",
] as const;

export type BGPSessionState = (typeof BGP_SESSION_STATES)[number];

export interface BGPSessionStatus {
  /** The BGPPeer's name. */
  peer: string;
  state: BGPSessionState;
  /**
   * When the session entered its state; uptime is now minus this. A timestamp rather than
   * a duration so the agent does not rewrite the object every second.
   */
  since?: string;
  prefixesSent?: number;
  prefixesReceived?: number;
  /** Why the session last failed, in BIRD's words ("BGP Error: Bad peer AS"). */
  lastError?: string;
}

/** The failure detector's view from this node; names are node names. */
export interface DetectorView {
  members: string[];
  suspects: string[];
  dead: string[];
}

/** Totals for `kubectl get nodestates`, whose columns cannot count list items. */
export interface NodeStateCounts {
  local: number;
  routed: number;
  sessionsEstablished: number;
  sessions: number;
  suspects: number;
  dead: number;
}

/**
 * An interface that can hold local addresses, with the subnets on it. Other agents read
 * these to know which nodes can take a local address, so that every agent elects the same
 * announcer without asking.
 */
export interface NodeInterface {
  name: string;
  /** CIDRs of the interface's own addresses, e.g. "192.168.1.7/24". */
  subnets: string[];
}

export interface NodeStateStatus {
  announced?: AnnouncedAddress[];
  interfaces?: NodeInterface[];
  bgpSessions?: BGPSessionStatus[];
  detector?: DetectorView;
  counts?: NodeStateCounts;
  /**
   * Ready: the agent runs and announces. Problems it cannot fix itself are conditions too:
   * ConfigValid (AgentConfig or pool interface regexes), KernelReady (sysctls, kube-proxy
   * IPVS without strictARP), DetectorHealthy (key missing, forged or replayed heartbeats).
   */
  conditions?: Condition[];
  /** When the agent last wrote this status; a stale time means the agent is gone. */
  updateTime?: string;
}

export interface NodeState {
  apiVersion: typeof API_VERSION;
  kind: "NodeState";
  metadata: ObjectMeta;
  status?: NodeStateStatus;
}

// Bounds are Kubernetes' own: 5000 nodes per cluster, 253-byte names.
const MAX_NODES = 5000;
const nodeNames = {
  type: "array",
  items: { type: "string", maxLength: 253 },
  maxItems: MAX_NODES,
  "x-kubernetes-list-type": "set",
} as const;

const count = { type: "integer", format: "int32", minimum: 0 } as const;

export const nodeStateStatusSchema: ObjectSchema<NodeStateStatus> = objectSchema<NodeStateStatus>()(
  {
    announced: {
      type: "array",
      items: objectSchema<AnnouncedAddress>()(
        {
          address: { type: "string", maxLength: 45 },
          services: {
            type: "array",
            items: { type: "string", maxLength: 317 },
            maxItems: 1024,
            "x-kubernetes-list-type": "set",
          },
          mode: { type: "string", enum: ANNOUNCEMENT_MODES },
          interface: { type: "string", maxLength: 15 },
          since: { type: "string", format: "date-time", maxLength: 32 },
        },
        ["address", "services", "mode", "interface"],
      ),
      maxItems: 65536,
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["address"],
    },
    interfaces: {
      type: "array",
      items: objectSchema<NodeInterface>()(
        {
          name: { type: "string", maxLength: 15 },
          subnets: {
            type: "array",
            items: { type: "string", maxLength: 49 },
            maxItems: 256,
            "x-kubernetes-list-type": "set",
          },
        },
        ["name", "subnets"],
      ),
      maxItems: 256,
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["name"],
    },
    bgpSessions: {
      type: "array",
      items: objectSchema<BGPSessionStatus>()(
        {
          peer: { type: "string", maxLength: 253 },
          state: { type: "string", enum: BGP_SESSION_STATES },
          since: { type: "string", format: "date-time" },
          prefixesSent: { type: "integer", format: "int64", minimum: 0 },
          prefixesReceived: { type: "integer", format: "int64", minimum: 0 },
          lastError: { type: "string", maxLength: 1024 },
        },
        ["peer", "state"],
      ),
      maxItems: 256,
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["peer"],
    },
    detector: objectSchema<DetectorView>()(
      { members: nodeNames, suspects: nodeNames, dead: nodeNames },
      ["members", "suspects", "dead"],
    ),
    counts: objectSchema<NodeStateCounts>()(
      {
        local: count,
        routed: count,
        sessionsEstablished: count,
        sessions: count,
        suspects: count,
        dead: count,
      },
      ["local", "routed", "sessionsEstablished", "sessions", "suspects", "dead"],
    ),
    conditions: conditionsSchema,
    updateTime: { type: "string", format: "date-time" },
  },
  [],
);
