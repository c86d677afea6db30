// BGPAdvertisement (herald.dev/v1alpha1): which pools' routed addresses go to which
// BGP peers, and the attributes they carry.
import type { Condition, ObjectMeta } from "./meta.ts";
import {
  conditionsSchema,
  labelSelectorSchema,
  objectSchema,
  type ArraySchema,
  type ObjectSchema,
} from "./openapi.ts";
import type { LabelSelector } from "./selector.ts";
import type { API_VERSION } from "./addresspool.ts";

/** Names accepted in `communities` (RFC 1997, 3765, 7611, 7999, 8326, 9494), as GoBGP spells them. */
export const WELL_KNOWN_COMMUNITIES = [
  "no-export",
  "no-advertise",
  "no-export-subconfed",
  "no-peer",
  "blackhole",
  "graceful-shutdown",
  "accept-own",
  "llgr-stale",
  "no-llgr",
] as const;

export interface BGPAdvertisementSpec {
  /** Pools by name. Neither this nor poolSelector: every pool (as MetalLB does). */
  pools?: string[];
  /** Pools by label; set either pools or poolSelector, so which one applies is never a question. */
  poolSelector?: LabelSelector;
  /** BGPPeers by name. Neither this nor peerSelector: every peer. */
  peers?: string[];
  peerSelector?: LabelSelector;
  /** Standard communities "65000:100" (two 16-bit numbers) or well-known names ("no-export"). */
  communities?: string[];
  /** Large communities (RFC 8092) "a:b:c", three 32-bit numbers. */
  largeCommunities?: string[];
  /** LOCAL_PREF for iBGP peers; eBGP peers never receive it. */
  localPreference?: number;
}

export interface BGPAdvertisementStatus {
  conditions?: Condition[];
  observedGeneration?: number;
}

export interface BGPAdvertisement {
  apiVersion: typeof API_VERSION;
  kind: "BGPAdvertisement";
  metadata: ObjectMeta;
  spec: BGPAdvertisementSpec;
  status?: BGPAdvertisementStatus;
}

const NAME_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

const namesSchema: ArraySchema<string> = {
  type: "array",
  items: { type: "string", maxLength: 253, pattern: NAME_PATTERN },
  maxItems: 64,
  "x-kubernetes-list-type": "set",
};

const wellKnown = WELL_KNOWN_COMMUNITIES.map((name) => `'${name}'`).join(", ");

export const bgpAdvertisementSpecSchema: ObjectSchema<BGPAdvertisementSpec> =
  objectSchema<BGPAdvertisementSpec>()(
    {
      pools: namesSchema,
      poolSelector: labelSelectorSchema,
      peers: namesSchema,
      peerSelector: labelSelectorSchema,
      communities: {
        type: "array",
        items: {
          type: "string",
          maxLength: 32,
          "x-kubernetes-validations": [
            {
              rule:
                `self in [${wellKnown}] || (self.matches('^[0-9]{1,5}:[0-9]{1,5}$') && ` +
                "int(self.split(':')[0]) <= 65535 && int(self.split(':')[1]) <= 65535)",
              message: `must be two numbers from 0 to 65535 as "65000:100", or one of ${WELL_KNOWN_COMMUNITIES.join(", ")}`,
            },
          ],
        },
        maxItems: 32,
        "x-kubernetes-list-type": "set",
      },
      largeCommunities: {
        type: "array",
        items: {
          type: "string",
          maxLength: 32,
          "x-kubernetes-validations": [
            {
              rule: "self.matches('^[0-9]{1,10}:[0-9]{1,10}:[0-9]{1,10}$') && self.split(':').all(n, int(n) <= 4294967295)",
              message: 'must be three numbers from 0 to 4294967295 as "65000:1:2"',
            },
          ],
        },
        maxItems: 32,
        "x-kubernetes-list-type": "set",
      },
      localPreference: { type: "integer", format: "int64", minimum: 0, maximum: 4294967295 },
    },
    [],
    {
      "x-kubernetes-validations": [
        {
          rule: "!has(self.pools) || !has(self.poolSelector)",
          message: "set pools or poolSelector, not both",
        },
        {
          rule: "!has(self.peers) || !has(self.peerSelector)",
          message: "set peers or peerSelector, not both",
        },
      ],
    },
  );

export const bgpAdvertisementStatusSchema: ObjectSchema<BGPAdvertisementStatus> =
  objectSchema<BGPAdvertisementStatus>()(
    {
      conditions: conditionsSchema,
      observedGeneration: { type: "integer", format: "int64", minimum: 0 },
    },
    [],
  );
