// AgentConfig (herald.dev/v1alpha1): node-agent settings for the whole cluster. Optional;
// a singleton named `default`, so there is never a question which one applies.
import type { Condition, ObjectMeta } from "./meta.ts";
import { conditionsSchema, objectSchema, type ObjectSchema } from "./openapi.ts";
import type { API_VERSION } from "./addresspool.ts";

export const AGENT_CONFIG_NAME = "default";

export const ROUTING_MODES = ["Bird", "External"] as const;

/**
 * Bird: the agent runs and configures the bundled BIRD from BGPPeer/BGPAdvertisement.
 * External: the agent only puts routed addresses on the virtual interface; the user's own
 * daemon (Calico, FRR, kube-router) redistributes that interface's routes.
 */
export type RoutingMode = (typeof ROUTING_MODES)[number];

export interface FailureDetectorSettings {
  /** Heartbeat period. */
  intervalMs?: number;
  /** Silence after which a member is suspected and others are asked to probe it. */
  suspicionMs?: number;
  /** Silence after which a member is dead and its local addresses move. */
  timeoutMs?: number;
  /** UDP port of the heartbeats, the same on every node. */
  port?: number;
}

export interface GARPSettings {
  /** Gratuitous ARPs / unsolicited NAs sent when a node takes a local address. */
  count?: number;
  intervalMs?: number;
}

/** Planned maintenance: how a node that is going away hands its addresses over. */
export interface MaintenanceSettings {
  /**
   * A cordoned node (spec.unschedulable, as `kubectl drain` and `kubectl cordon` leave it)
   * hands its addresses to other nodes at once, make-before-break. Off: only a node going
   * away (tainted for deletion or out-of-service, or its agent stopping on a cordoned,
   * deleted or NotReady node) does.
   */
  handoverOnCordon?: boolean;
  /** How long a node keeps an address after another was chosen, until that one announces it. */
  handoverTimeoutMs?: number;
  /**
   * Routed mode: how long a leaving node's routes carry the GRACEFUL_SHUTDOWN community
   * (RFC 8326, 65535:0) before it withdraws them, so that routers move traffic first.
   */
  gracefulShutdownMs?: number;
  /**
   * Local mode: how long a node that handed an address over keeps it, answering no
   * neighbour, while the new holder passes it the rest of its TCP connections. 0: the
   * address leaves at once, and connections open at a handover are reset — in routed mode
   * too, where the other nodes otherwise pass a leaving node its connections for its
   * graceful shutdown.
   */
  connectionDrainMs?: number;
}

export interface AgentConfigSpec {
  /** Interface holding routed addresses; a bridge without ports when `dummy` is missing. */
  virtualInterface?: string;
  /** Regexes of interfaces that may hold local addresses (default: any whose subnet fits). */
  localInterfaces?: string[];
  routing?: RoutingMode;
  failureDetector?: FailureDetectorSettings;
  garp?: GARPSettings;
  maintenance?: MaintenanceSettings;
}

export interface AgentConfigStatus {
  conditions?: Condition[];
  observedGeneration?: number;
}

export interface AgentConfig {
  apiVersion: typeof API_VERSION;
  kind: "AgentConfig";
  metadata: ObjectMeta;
  spec: AgentConfigSpec;
  status?: AgentConfigStatus;
}

export const agentConfigSpecSchema: ObjectSchema<AgentConfigSpec> = objectSchema<AgentConfigSpec>()(
  {
    // IFNAMSIZ is 16 bytes with the terminating NUL; "/" and whitespace are refused by the kernel.
    virtualInterface: {
      type: "string",
      minLength: 1,
      maxLength: 15,
      pattern: "^[A-Za-z0-9_.:-]+$",
      default: "kube-lb0",
    },
    localInterfaces: {
      type: "array",
      items: { type: "string", minLength: 1, maxLength: 256 },
      maxItems: 16,
      "x-kubernetes-list-type": "set",
    },
    routing: { type: "string", enum: ROUTING_MODES, default: "Bird" },
    // Defaults put failover well under a second (DESIGN §1) without flagging a node that
    // misses two heartbeats in a GC pause.
    failureDetector: objectSchema<FailureDetectorSettings>()(
      {
        intervalMs: { type: "integer", minimum: 10, maximum: 10000, default: 100 },
        suspicionMs: { type: "integer", minimum: 20, maximum: 60000, default: 300 },
        timeoutMs: { type: "integer", minimum: 30, maximum: 120000, default: 700 },
        // Clear of MetalLB's 7472 (metrics) and 7946 (memberlist): both run during a migration.
        port: { type: "integer", minimum: 1, maximum: 65535, default: 7474 },
      },
      [],
      {
        "x-kubernetes-validations": [
          {
            rule: "self.intervalMs < self.suspicionMs && self.suspicionMs < self.timeoutMs",
            message: "must have intervalMs < suspicionMs < timeoutMs",
          },
        ],
      },
    ),
    garp: objectSchema<GARPSettings>()(
      {
        count: { type: "integer", minimum: 0, maximum: 100, default: 3 },
        intervalMs: { type: "integer", minimum: 10, maximum: 10000, default: 1000 },
      },
      [],
    ),
    maintenance: objectSchema<MaintenanceSettings>()(
      {
        handoverOnCordon: { type: "boolean", default: true },
        handoverTimeoutMs: { type: "integer", minimum: 100, maximum: 60000, default: 5000 },
        gracefulShutdownMs: { type: "integer", minimum: 0, maximum: 60000, default: 3000 },
        connectionDrainMs: { type: "integer", minimum: 0, maximum: 60000, default: 2000 },
      },
      [],
    ),
  },
  [],
);

export const agentConfigStatusSchema: ObjectSchema<AgentConfigStatus> =
  objectSchema<AgentConfigStatus>()(
    {
      conditions: conditionsSchema,
      observedGeneration: { type: "integer", format: "int64", minimum: 0 },
    },
    [],
  );
