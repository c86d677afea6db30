// BGPPeer (herald.dev/v1alpha1): a router that Herald's BIRD opens a BGP session to from
// each selected node, to advertise the routed addresses on kube-lb0.
import type { Condition, ObjectMeta } from "./meta.ts";
import {
  conditionsSchema,
  labelSelectorSchema,
  objectSchema,
  type IntegerSchema,
  type ObjectSchema,
} from "./openapi.ts";
import type { LabelSelector } from "./selector.ts";
import type { API_VERSION } from "./addresspool.ts";

export const ADDRESS_FAMILIES = ["IPv4", "IPv6"] as const;

/** A BGP address family (AFI) carried over the session. */
export type AddressFamily = (typeof ADDRESS_FAMILIES)[number];

/** The Secret key holding the TCP MD5 password (RFC 2385). */
export interface SecretKeyRef {
  namespace: string;
  name: string;
  /** Defaults to "password", the key of a kubernetes.io/basic-auth Secret (as in MetalLB). */
  key?: string;
}

/** BFD timers (RFC 5880); the defaults are FRR's and MetalLB's BFDProfile's. */
export interface BFDSettings {
  /** Slowest rate at which we accept control packets from the peer. */
  minRxMs?: number;
  /** Fastest rate at which we send control packets. */
  minTxMs?: number;
  /** Missed packets before the session is declared down. */
  multiplier?: number;
}

export interface BGPPeerSpec {
  /** The router's address; its family decides the session's transport. */
  peerAddress: string;
  /** 4-byte ASNs (RFC 6793) are allowed. */
  peerASN: number;
  /** Our ASN; equal to peerASN makes the session iBGP. */
  localASN: number;
  /** TCP port, 179 unless the router listens elsewhere. */
  port?: number;
  /** Seconds; 0 disables keepalives (RFC 4271 allows 0 or at least 3). BIRD's default 240 when unset. */
  holdTime?: number;
  /** Seconds; must be below holdTime. Unset: a third of the hold time. */
  keepaliveTime?: number;
  /**
   * TTL for eBGP to a router that is not on a connected subnet. A number as in Cilium and
   * BIRD's `multihop <n>`, not MetalLB's boolean, because the hop count matters to GTSM.
   */
  ebgpMultihop?: number;
  passwordSecretRef?: SecretKeyRef;
  /** Present: run BFD on the session, with these timers. */
  bfd?: BFDSettings;
  /** An IPv4 address; defaults to the node's IPv4 address (BIRD needs one even for IPv6). */
  routerID?: string;
  /** Nodes that peer with this router; absent means all nodes. */
  nodeSelector?: LabelSelector;
  /** Address families advertised; absent means the family of peerAddress only, as in MetalLB. */
  families?: AddressFamily[];
}

/**
 * The Secret, in the agents' namespace, into which the controller copies each BGPPeer's
 * password under the peer's name: the one Secret besides the detector key the agents may
 * read (src/controller/bgp-passwords.ts says why).
 */
export const BGP_PASSWORDS_SECRET = "herald-agent-bgp";

export interface BGPPeerStatus {
  /** Ready: the peer's Secret resolved and its configuration was accepted by the agents. */
  conditions?: Condition[];
  observedGeneration?: number;
}

export interface BGPPeer {
  apiVersion: typeof API_VERSION;
  kind: "BGPPeer";
  metadata: ObjectMeta;
  spec: BGPPeerSpec;
  status?: BGPPeerStatus;
}

const asnSchema: IntegerSchema = {
  type: "integer",
  format: "int64",
  minimum: 1,
  maximum: 4294967295,
};

const NAME_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

export const bgpPeerSpecSchema: ObjectSchema<BGPPeerSpec> = objectSchema<BGPPeerSpec>()(
  {
    peerAddress: {
      type: "string",
      maxLength: 45,
      "x-kubernetes-validations": [
        { rule: "isIP(self)", message: "must be an IPv4 or IPv6 address" },
      ],
    },
    peerASN: asnSchema,
    localASN: asnSchema,
    port: { type: "integer", minimum: 1, maximum: 65535, default: 179 },
    holdTime: {
      type: "integer",
      minimum: 0,
      maximum: 65535,
      "x-kubernetes-validations": [
        {
          rule: "self == 0 || self >= 3",
          message: "must be 0 (no keepalives) or from 3 to 65535 seconds",
        },
      ],
    },
    keepaliveTime: { type: "integer", minimum: 0, maximum: 21845 },
    ebgpMultihop: { type: "integer", minimum: 1, maximum: 255 },
    passwordSecretRef: objectSchema<SecretKeyRef>()(
      {
        namespace: {
          type: "string",
          minLength: 1,
          maxLength: 63,
          pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        },
        name: { type: "string", minLength: 1, maxLength: 253, pattern: NAME_PATTERN },
        key: {
          type: "string",
          minLength: 1,
          maxLength: 253,
          pattern: "^[-._a-zA-Z0-9]+$",
          default: "password",
        },
      },
      ["namespace", "name"],
    ),
    bfd: objectSchema<BFDSettings>()(
      {
        minRxMs: { type: "integer", minimum: 10, maximum: 60000, default: 300 },
        minTxMs: { type: "integer", minimum: 10, maximum: 60000, default: 300 },
        multiplier: { type: "integer", minimum: 2, maximum: 255, default: 3 },
      },
      [],
    ),
    routerID: {
      type: "string",
      maxLength: 15,
      "x-kubernetes-validations": [
        {
          rule: "isIP(self) && ip(self).family() == 4",
          message: "must be an IPv4 address (a BGP router ID is 32 bits)",
        },
      ],
    },
    nodeSelector: labelSelectorSchema,
    families: {
      type: "array",
      items: { type: "string", enum: ADDRESS_FAMILIES },
      minItems: 1,
      maxItems: 2,
      "x-kubernetes-list-type": "set",
    },
  },
  ["peerAddress", "peerASN", "localASN"],
  {
    "x-kubernetes-validations": [
      {
        rule: "!has(self.keepaliveTime) || !has(self.holdTime) || (self.holdTime == 0 ? self.keepaliveTime == 0 : self.keepaliveTime < self.holdTime)",
        message: "keepaliveTime must be less than holdTime (and 0 when holdTime is 0)",
        fieldPath: ".keepaliveTime",
      },
      {
        rule: "!has(self.ebgpMultihop) || self.peerASN != self.localASN",
        message:
          "ebgpMultihop applies to eBGP only; this session is iBGP because peerASN equals localASN",
        fieldPath: ".ebgpMultihop",
      },
    ],
  },
);

export const bgpPeerStatusSchema: ObjectSchema<BGPPeerStatus> = objectSchema<BGPPeerStatus>()(
  {
    conditions: conditionsSchema,
    observedGeneration: { type: "integer", format: "int64", minimum: 0 },
  },
  [],
);
