// Cilium's pages (docs.cilium.io, Documentation/network/ of cilium/cilium): lb-ipam.rst,
// l2-announcements.rst, bgp-control-plane/bgp-control-plane-v1.rst (CiliumBGPPeeringPolicy,
// v2alpha1), bgp-control-plane/bgp-control-plane-configuration.rst and
// bgp-control-plane-v2.rst (CiliumBGPClusterConfig, PeerConfig, Advertisement, v2).
import type { DocExample } from "./example.ts";

const LB_IPAM = "docs.cilium.io/en/stable/network/lb-ipam/";
const L2 = "docs.cilium.io/en/stable/network/l2-announcements/";
const V1 = "docs.cilium.io/en/stable/network/bgp-control-plane/bgp-control-plane-v1/";
const V2 = "docs.cilium.io/en/stable/network/bgp-control-plane/bgp-control-plane-configuration/";

/** The v2alpha1 page's policy, to which each section adds one thing. */
function policy(router: string, neighbor = ""): string {
  return `
apiVersion: cilium.io/v2alpha1
kind: CiliumBGPPeeringPolicy
metadata: {name: rack0}
spec:
  nodeSelector:
    matchLabels: {rack: rack0}
  virtualRouters:
  - localASN: 64512
${router}    neighbors:
    - peerAddress: 10.0.0.1/32
      peerASN: 64512
${neighbor}`;
}

const P = "CiliumBGPPeeringPolicy/rack0";
const PEER = "BGPPeer/rack0-10-0-0-1";

/** What every v2alpha1 example carries: the router, its one neighbor, the node selector. */
const POLICY_CARRIED = {
  [`${P}:spec.nodeSelector`]: `${PEER}:spec.nodeSelector`,
  [`${P}:spec.virtualRouters[0].localASN`]: `${PEER}:spec.localASN`,
  [`${P}:spec.virtualRouters[0].neighbors[0].peerAddress`]: [
    `${PEER}:spec.peerAddress`,
    "10.0.0.1",
  ],
  [`${P}:spec.virtualRouters[0].neighbors[0].peerASN`]: `${PEER}:spec.peerASN`,
} as const;

const NOT_IN_ALL = `    serviceSelector:
      matchExpressions:
      - {key: somekey, operator: NotIn, values: [never-used-value]}
`;

/** The v2 page's cluster config; the peer config each section shows is named cilium-peer. */
const CLUSTER_CONFIG = `
apiVersion: cilium.io/v2
kind: CiliumBGPClusterConfig
metadata: {name: cilium-bgp}
spec:
  nodeSelector:
    matchLabels: {rack: rack0}
  bgpInstances:
  - name: instance-65000
    localASN: 65000
    peers:
    - name: peer-65000-tor1
      peerASN: 65000
      peerAddress: fd00:10:0:0::1
      peerConfigRef: {name: cilium-peer}
    - name: peer-65000-tor2
      peerASN: 65000
      peerAddress: fd00:11:0:0::1
      peerConfigRef: {name: cilium-peer}
`;

const C = "CiliumBGPClusterConfig/cilium-bgp";
const TOR1 = "BGPPeer/peer-65000-tor1";
const TOR2 = "BGPPeer/peer-65000-tor2";

const CLUSTER_CARRIED = {
  [`${C}:spec.nodeSelector`]: `${TOR1}:spec.nodeSelector`,
  // An identifier: it names a BGPPeer only when two instances have peers of one name.
  [`${C}:spec.bgpInstances[0].name`]: [`${TOR1}:metadata.name`, "peer-65000-tor1"],
  [`${C}:spec.bgpInstances[0].localASN`]: `${TOR1}:spec.localASN`,
  [`${C}:spec.bgpInstances[0].peers[0].name`]: `${TOR1}:metadata.name`,
  [`${C}:spec.bgpInstances[0].peers[0].peerASN`]: `${TOR1}:spec.peerASN`,
  [`${C}:spec.bgpInstances[0].peers[0].peerAddress`]: `${TOR1}:spec.peerAddress`,
  [`${C}:spec.bgpInstances[0].peers[0].peerConfigRef`]: [`${TOR1}:spec.holdTime`, 90],
  [`${C}:spec.bgpInstances[0].peers[1].name`]: `${TOR2}:metadata.name`,
  [`${C}:spec.bgpInstances[0].peers[1].peerASN`]: `${TOR2}:spec.peerASN`,
  [`${C}:spec.bgpInstances[0].peers[1].peerAddress`]: `${TOR2}:spec.peerAddress`,
  [`${C}:spec.bgpInstances[0].peers[1].peerConfigRef`]: [`${TOR2}:spec.holdTime`, 90],
} as const;

/** A peer config that sends every advertisement labelled advertise: bgp, in both families. */
const FAMILIES = `
apiVersion: cilium.io/v2
kind: CiliumBGPPeerConfig
metadata: {name: cilium-peer}
spec:
  families:
  - {afi: ipv4, safi: unicast, advertisements: {matchLabels: {advertise: bgp}}}
  - {afi: ipv6, safi: unicast, advertisements: {matchLabels: {advertise: bgp}}}
`;

const F = "CiliumBGPPeerConfig/cilium-peer";
const BOTH = ["IPv4", "IPv6"];

const FAMILIES_CARRIED = {
  [`${F}:spec.families[0].afi`]: [`${TOR1}:spec.families`, BOTH],
  [`${F}:spec.families[0].safi`]: [`${TOR1}:spec.families`, BOTH],
  [`${F}:spec.families[1].afi`]: [`${TOR1}:spec.families`, BOTH],
  [`${F}:spec.families[1].safi`]: [`${TOR1}:spec.families`, BOTH],
} as const;

/** The families' selectors, when they take an advertisement that is converted. */
const FAMILIES_ADVERTISED = {
  [`${F}:spec.families[0].advertisements`]: [
    "BGPAdvertisement/bgp-advertisements:spec.peers",
    ["peer-65000-tor1", "peer-65000-tor2"],
  ],
  [`${F}:spec.families[1].advertisements`]: [
    "BGPAdvertisement/bgp-advertisements:spec.peers",
    ["peer-65000-tor1", "peer-65000-tor2"],
  ],
} as const;

function advertisement(entries: string): string {
  return `
apiVersion: cilium.io/v2
kind: CiliumBGPAdvertisement
metadata:
  name: bgp-advertisements
  labels: {advertise: bgp}
spec:
  advertisements:
${entries}`;
}

const A = "CiliumBGPAdvertisement/bgp-advertisements";

const ADVERTISED = {
  [`${A}:metadata.labels`]: [
    "BGPAdvertisement/bgp-advertisements:spec.peers",
    ["peer-65000-tor1", "peer-65000-tor2"],
  ],
} as const;

/** A service advertisement: the addresses, the selector, what else the section adds. */
function services(addresses: string, selector: string, more = ""): string {
  return `  - advertisementType: Service
    service:
      addresses: [${addresses}]
${more}    selector:
      matchExpressions:
      - ${selector}
`;
}

const BLUE = "{key: bgp, operator: In, values: [blue]}";
const EVERY = "{key: somekey, operator: NotIn, values: [never-used-value]}";

/** The v2 examples that advertise services, with the cluster and peer config they need. */
function v2(entries: string, pool = ""): string {
  return [CLUSTER_CONFIG, FAMILIES, advertisement(entries), pool].join("\n---\n");
}

export const CILIUM_EXAMPLES: readonly DocExample[] = [
  {
    page: `${LB_IPAM} § Pools`,
    yaml: `
apiVersion: cilium.io/v2alpha1
kind: CiliumLoadBalancerIPPool
metadata: {name: blue-pool}
spec:
  blocks:
  - cidr: 10.0.10.0/24
  - cidr: 2004::0/64
  - start: 20.0.20.100
    stop: 20.0.20.200
  - start: 1.2.3.4
`,
    carried: {
      "CiliumLoadBalancerIPPool/blue-pool:spec.blocks[0].cidr":
        "AddressPool/blue-pool:spec.addresses[0]",
      "CiliumLoadBalancerIPPool/blue-pool:spec.blocks[1].cidr": [
        "AddressPool/blue-pool:spec.addresses[1]",
        "2004::/64",
      ],
      "CiliumLoadBalancerIPPool/blue-pool:spec.blocks[2]": [
        "AddressPool/blue-pool:spec.addresses[2]",
        "20.0.20.100-20.0.20.200",
      ],
      "CiliumLoadBalancerIPPool/blue-pool:spec.blocks[3].start":
        "AddressPool/blue-pool:spec.addresses[3]",
    },
    unconverted: [],
  },
  {
    page: `${LB_IPAM} § Service Selectors`,
    yaml: `
apiVersion: cilium.io/v2alpha1
kind: CiliumLoadBalancerIPPool
metadata: {name: blue-pool}
spec:
  blocks:
  - cidr: 20.0.10.0/24
  serviceSelector:
    matchExpressions:
    - {key: color, operator: In, values: [blue, cyan]}
---
apiVersion: cilium.io/v2alpha1
kind: CiliumLoadBalancerIPPool
metadata: {name: red-pool}
spec:
  blocks:
  - cidr: 20.0.10.0/24
  serviceSelector:
    matchLabels: {color: red}
`,
    carried: {
      "CiliumLoadBalancerIPPool/blue-pool:spec.blocks[0].cidr":
        "AddressPool/blue-pool:spec.addresses[0]",
      "CiliumLoadBalancerIPPool/blue-pool:spec.serviceSelector":
        "AddressPool/blue-pool:spec.allocation.serviceSelector",
      "CiliumLoadBalancerIPPool/red-pool:spec.blocks[0].cidr":
        "AddressPool/red-pool:spec.addresses[0]",
      "CiliumLoadBalancerIPPool/red-pool:spec.serviceSelector":
        "AddressPool/red-pool:spec.allocation.serviceSelector",
    },
    unconverted: [],
  },
  {
    page: `${LB_IPAM} § Service Selectors (on the namespace)`,
    yaml: `
apiVersion: cilium.io/v2alpha1
kind: CiliumLoadBalancerIPPool
metadata: {name: blue-pool}
spec:
  blocks:
  - cidr: 20.0.10.0/24
  serviceSelector:
    matchLabels:
      io.kubernetes.service.namespace: tenant-a
`,
    carried: {
      "CiliumLoadBalancerIPPool/blue-pool:spec.blocks[0].cidr":
        "AddressPool/blue-pool:spec.addresses[0]",
      "CiliumLoadBalancerIPPool/blue-pool:spec.serviceSelector": [
        "AddressPool/blue-pool:spec.allocation",
        { namespaces: ["tenant-a"] },
      ],
    },
    unconverted: [],
  },
  {
    page: `${LB_IPAM} § Disabling a Pool`,
    yaml: `
apiVersion: cilium.io/v2alpha1
kind: CiliumLoadBalancerIPPool
metadata: {name: blue-pool}
spec:
  blocks:
  - cidr: 20.0.10.0/24
  disabled: true
`,
    carried: {
      "CiliumLoadBalancerIPPool/blue-pool:spec.blocks[0].cidr":
        "AddressPool/blue-pool:spec.addresses[0]",
    },
    // autoAssign: false is the nearest: a service that asks for the pool still gets an address.
    unconverted: ["CiliumLoadBalancerIPPool/blue-pool:spec.disabled"],
  },
  {
    page: `${L2} § Policies (with the pool of the LB IPAM page)`,
    yaml: `
apiVersion: cilium.io/v2alpha1
kind: CiliumL2AnnouncementPolicy
metadata: {name: policy1}
spec:
  serviceSelector:
    matchLabels: {color: blue}
  nodeSelector:
    matchExpressions:
    - {key: node-role.kubernetes.io/control-plane, operator: DoesNotExist}
  interfaces: ["^eth[0-9]+"]
  externalIPs: true
  loadBalancerIPs: true
---
apiVersion: cilium.io/v2alpha1
kind: CiliumLoadBalancerIPPool
metadata: {name: blue-pool}
spec:
  blocks:
  - cidr: 20.0.10.0/24
`,
    carried: {
      "CiliumL2AnnouncementPolicy/policy1:spec.nodeSelector":
        "AddressPool/blue-pool:spec.nodeSelector",
      "CiliumL2AnnouncementPolicy/policy1:spec.interfaces": "AddressPool/blue-pool:spec.interfaces",
      "CiliumL2AnnouncementPolicy/policy1:spec.loadBalancerIPs": [
        "AddressPool/blue-pool:spec.announce",
        "Local",
      ],
      "CiliumLoadBalancerIPPool/blue-pool:spec.blocks[0].cidr":
        "AddressPool/blue-pool:spec.addresses[0]",
    },
    // Herald announces whole pools, and the addresses it allocates, not spec.externalIPs.
    unconverted: [
      "CiliumL2AnnouncementPolicy/policy1:spec.serviceSelector",
      "CiliumL2AnnouncementPolicy/policy1:spec.externalIPs",
    ],
  },
  {
    page: `${L2} § Policies (the policy alone)`,
    yaml: `
apiVersion: cilium.io/v2alpha1
kind: CiliumL2AnnouncementPolicy
metadata: {name: policy1}
spec:
  serviceSelector:
    matchLabels: {color: blue}
  nodeSelector:
    matchExpressions:
    - {key: node-role.kubernetes.io/control-plane, operator: DoesNotExist}
  interfaces: ["^eth[0-9]+"]
  externalIPs: true
  loadBalancerIPs: true
`,
    carried: {},
    unconverted: ["CiliumL2AnnouncementPolicy/policy1:spec"],
  },
  {
    page: `${V1} § Configure Peering`,
    yaml: policy(""),
    carried: { ...POLICY_CARRIED },
    unconverted: [],
  },
  {
    page: `${V1} § Advertising PodCIDRs (Kubernetes and ClusterPool IPAM)`,
    yaml: policy("    exportPodCIDR: true\n"),
    carried: { ...POLICY_CARRIED },
    unconverted: [`${P}:spec.virtualRouters[0].exportPodCIDR`],
  },
  {
    page: `${V1} § Advertising PodCIDRs (MultiPool IPAM)`,
    yaml: policy("    podIPPoolSelector:\n      matchLabels: {environment: production}\n"),
    carried: { ...POLICY_CARRIED },
    unconverted: [`${P}:spec.virtualRouters[0].podIPPoolSelector`],
  },
  {
    page: `${V1} § Advertising PodCIDRs (every CiliumPodIPPool)`,
    yaml: policy(
      "    podIPPoolSelector:\n      matchExpressions:\n      - {key: somekey, operator: NotIn, values: [never-used-value]}\n",
    ),
    carried: { ...POLICY_CARRIED },
    unconverted: [`${P}:spec.virtualRouters[0].podIPPoolSelector`],
  },
  {
    page: `${V1} § Advertising Service Virtual IPs`,
    yaml: policy(
      "    serviceSelector:\n      matchLabels: {app: foo}\n    serviceAdvertisements: [LoadBalancerIP, ClusterIP, ExternalIP]\n",
    ),
    carried: {
      ...POLICY_CARRIED,
      [`${P}:spec.virtualRouters[0].serviceAdvertisements[0]`]: [
        "BGPAdvertisement/rack0-64512:spec.peers",
        ["rack0-10-0-0-1"],
      ],
    },
    unconverted: [
      `${P}:spec.virtualRouters[0].serviceSelector`,
      `${P}:spec.virtualRouters[0].serviceAdvertisements[1]`,
      `${P}:spec.virtualRouters[0].serviceAdvertisements[2]`,
    ],
  },
  {
    page: `${V1} § Advertising ExternalIP Services`,
    yaml: policy(
      "    serviceSelector:\n      matchLabels: {app: foo}\n    serviceAdvertisements: [ExternalIP]\n",
    ),
    carried: { ...POLICY_CARRIED },
    // The router advertised no LoadBalancer address: no BGPAdvertisement, with a note.
    unconverted: [
      `${P}:spec.virtualRouters[0].serviceSelector`,
      `${P}:spec.virtualRouters[0].serviceAdvertisements`,
    ],
  },
  {
    page: `${V1} § Advertising ClusterIP Services`,
    yaml: policy(
      "    serviceSelector:\n      matchLabels: {app: foo}\n    serviceAdvertisements: [ClusterIP]\n",
    ),
    carried: { ...POLICY_CARRIED },
    unconverted: [
      `${P}:spec.virtualRouters[0].serviceSelector`,
      `${P}:spec.virtualRouters[0].serviceAdvertisements`,
    ],
  },
  {
    page: `${V1} § Advertising Load Balancer Services`,
    yaml: policy("    serviceSelector:\n      matchLabels: {app: foo}\n"),
    carried: { ...POLICY_CARRIED },
    // Herald advertises every address of a pool: the selector is warned about.
    unconverted: [`${P}:spec.virtualRouters[0].serviceSelector`],
  },
  {
    page: `${V1} § Advertising Load Balancer Services (every service)`,
    yaml: policy(NOT_IN_ALL),
    carried: {
      ...POLICY_CARRIED,
      [`${P}:spec.virtualRouters[0].serviceSelector`]: [
        "BGPAdvertisement/rack0-64512:spec",
        { peers: ["rack0-10-0-0-1"] },
      ],
    },
    unconverted: [],
  },
  {
    page: `${V1} § Neighbor Options: Peer Port`,
    yaml: policy("", "      peerPort: 1179\n"),
    carried: {
      ...POLICY_CARRIED,
      [`${P}:spec.virtualRouters[0].neighbors[0].peerPort`]: `${PEER}:spec.port`,
    },
    unconverted: [],
  },
  {
    page: `${V1} § Neighbor Options: Timers (as the page spells connectRetryTimeSeconds)`,
    yaml: policy(
      "",
      "      connetRetryTimeSeconds: 90\n      holdTimeSeconds: 9\n      keepAliveTimeSeconds: 3\n",
    ),
    carried: {
      ...POLICY_CARRIED,
      [`${P}:spec.virtualRouters[0].neighbors[0].holdTimeSeconds`]: `${PEER}:spec.holdTime`,
      [`${P}:spec.virtualRouters[0].neighbors[0].keepAliveTimeSeconds`]: `${PEER}:spec.keepaliveTime`,
    },
    unconverted: [`${P}:spec.virtualRouters[0].neighbors[0].connetRetryTimeSeconds`],
  },
  {
    page: `${V1} § Neighbor Options: eBGP Multihop (on the page's iBGP session)`,
    yaml: policy("", "      eBGPMultihopTTL: 4\n"),
    carried: { ...POLICY_CARRIED },
    unconverted: [`${P}:spec.virtualRouters[0].neighbors[0].eBGPMultihopTTL`],
  },
  {
    page: `${V1} § Neighbor Options: MD5 Passwords`,
    yaml: policy("", "      authSecretRef: bgp-password\n"),
    carried: {
      ...POLICY_CARRIED,
      [`${P}:spec.virtualRouters[0].neighbors[0].authSecretRef`]: `${PEER}:spec.passwordSecretRef.name`,
    },
    unconverted: [],
  },
  {
    page: `${V1} § Neighbor Options: Graceful Restart`,
    yaml: policy(
      "",
      "      gracefulRestart:\n        enabled: true\n        restartTimeSeconds: 120\n",
    ),
    carried: { ...POLICY_CARRIED },
    unconverted: [`${P}:spec.virtualRouters[0].neighbors[0].gracefulRestart`],
  },
  {
    page: `${V1} § Neighbor Options: Advertised Path Attributes (as on the page)`,
    yaml: policy(
      "",
      `      advertisedPathAttributes:
      - selectorType: CiliumLoadBalancerIPPool
        selector:
          matchLabels: {environment: production}
        communities:
          standard: ["64512:100"]
      - selectorType: PodCIDR
        localPreference: 150
        communities:
          standard: ["64512:150"]
`,
    ),
    carried: { ...POLICY_CARRIED },
    // The page's router has no serviceSelector: Cilium sent no LoadBalancer route to mark.
    unconverted: [
      `${P}:spec.virtualRouters[0].neighbors[0].advertisedPathAttributes[0]`,
      `${P}:spec.virtualRouters[0].neighbors[0].advertisedPathAttributes[1]`,
    ],
  },
  {
    page: `${V1} § Advertised Path Attributes, on a router that advertises every service`,
    yaml: policy(
      NOT_IN_ALL,
      `      advertisedPathAttributes:
      - selectorType: CiliumLoadBalancerIPPool
        selector:
          matchLabels: {environment: production}
        communities:
          standard: ["64512:100"]
          wellKnown: [no-export]
          large: ["64512:100:50"]
        localPreference: 200
      - selectorType: PodCIDR
        localPreference: 150
        communities:
          standard: ["64512:150"]
`,
    ),
    carried: {
      ...POLICY_CARRIED,
      [`${P}:spec.virtualRouters[0].serviceSelector`]: [
        "BGPAdvertisement/rack0-64512:spec.peers",
        ["rack0-10-0-0-1"],
      ],
      [`${P}:spec.virtualRouters[0].neighbors[0].advertisedPathAttributes[0].selectorType`]: [
        "BGPAdvertisement/rack0-64512-attributes-1:spec.peers",
        ["rack0-10-0-0-1"],
      ],
      [`${P}:spec.virtualRouters[0].neighbors[0].advertisedPathAttributes[0].selector`]:
        "BGPAdvertisement/rack0-64512-attributes-1:spec.poolSelector",
      [`${P}:spec.virtualRouters[0].neighbors[0].advertisedPathAttributes[0].communities.standard`]:
        ["BGPAdvertisement/rack0-64512-attributes-1:spec.communities", ["64512:100", "no-export"]],
      [`${P}:spec.virtualRouters[0].neighbors[0].advertisedPathAttributes[0].communities.wellKnown`]:
        ["BGPAdvertisement/rack0-64512-attributes-1:spec.communities", ["64512:100", "no-export"]],
      [`${P}:spec.virtualRouters[0].neighbors[0].advertisedPathAttributes[0].communities.large`]:
        "BGPAdvertisement/rack0-64512-attributes-1:spec.largeCommunities",
      [`${P}:spec.virtualRouters[0].neighbors[0].advertisedPathAttributes[0].localPreference`]:
        "BGPAdvertisement/rack0-64512-attributes-1:spec.localPreference",
    },
    unconverted: [`${P}:spec.virtualRouters[0].neighbors[0].advertisedPathAttributes[1]`],
  },
  {
    page: `${V1} § Neighbor Options: Address Families`,
    yaml: policy("", "      families:\n      - {afi: ipv4, safi: unicast}\n"),
    carried: {
      ...POLICY_CARRIED,
      [`${P}:spec.virtualRouters[0].neighbors[0].families`]: [`${PEER}:spec.families`, ["IPv4"]],
    },
    unconverted: [],
  },
  {
    page: `${V2} § BGP Cluster Configuration, with the full CiliumBGPPeerConfig and an advertisement`,
    yaml: [
      CLUSTER_CONFIG.replace("localASN: 65000\n", "localASN: 65000\n    localPort: 179\n"),
      `
apiVersion: cilium.io/v2
kind: CiliumBGPPeerConfig
metadata: {name: cilium-peer}
spec:
  timers:
    holdTimeSeconds: 9
    keepAliveTimeSeconds: 3
  authSecretRef: bgp-auth-secret
  ebgpMultihop: 4
  gracefulRestart:
    enabled: true
    restartTimeSeconds: 15
  families:
  - afi: ipv4
    safi: unicast
    advertisements:
      matchLabels: {advertise: bgp}
`,
      advertisement(services("LoadBalancerIP", EVERY)),
    ].join("\n---\n"),
    carried: {
      ...CLUSTER_CARRIED,
      [`${C}:spec.bgpInstances[0].peers[0].peerConfigRef`]: [`${TOR1}:spec.holdTime`, 9],
      [`${C}:spec.bgpInstances[0].peers[1].peerConfigRef`]: [`${TOR2}:spec.holdTime`, 9],
      [`${F}:spec.timers.holdTimeSeconds`]: `${TOR1}:spec.holdTime`,
      [`${F}:spec.timers.keepAliveTimeSeconds`]: `${TOR1}:spec.keepaliveTime`,
      [`${F}:spec.authSecretRef`]: `${TOR1}:spec.passwordSecretRef.name`,
      [`${F}:spec.families[0].afi`]: [`${TOR1}:spec.families`, ["IPv4"]],
      [`${F}:spec.families[0].safi`]: [`${TOR1}:spec.families`, ["IPv4"]],
      [`${F}:spec.families[0].advertisements`]: [
        "BGPAdvertisement/bgp-advertisements:spec.peers",
        ["peer-65000-tor1", "peer-65000-tor2"],
      ],
      ...ADVERTISED,
      [`${A}:spec.advertisements[0]`]: [
        "BGPAdvertisement/bgp-advertisements:spec",
        { peers: ["peer-65000-tor1", "peer-65000-tor2"] },
      ],
    },
    // ebgpMultihop on iBGP sessions (peerASN = localASN) needs nothing in BIRD.
    unconverted: [
      `${C}:spec.bgpInstances[0].localPort`,
      `${F}:spec.ebgpMultihop`,
      `${F}:spec.gracefulRestart`,
    ],
  },
  {
    page: `docs.cilium.io/en/stable/network/bgp-control-plane/bgp-control-plane-v2/ § BGP Cluster Configuration (localPort on a peer)`,
    yaml: CLUSTER_CONFIG.replace("peerASN: 65000\n", "localPort: 179\n      peerASN: 65000\n"),
    carried: {
      ...CLUSTER_CARRIED,
      [`${C}:spec.bgpInstances[0].peers[0].peerConfigRef`]: [`${TOR1}:spec.holdTime`, 90],
      [`${C}:spec.bgpInstances[0].peers[1].peerConfigRef`]: [`${TOR2}:spec.holdTime`, 90],
    },
    unconverted: [`${C}:spec.bgpInstances[0].peers[0].localPort`],
  },
  {
    page: `${V2} § Auto-Discovery (Default Gateway)`,
    yaml: `
apiVersion: cilium.io/v2
kind: CiliumBGPClusterConfig
metadata: {name: cilium-bgp}
spec:
  bgpInstances:
  - name: "65001"
    localASN: 65001
    peers:
    - name: instance-65001
      peerASN: 65000
      autoDiscovery:
        mode: DefaultGateway
        defaultGateway: {addressFamily: ipv6}
      peerConfigRef: {name: cilium-peer}
`,
    carried: {},
    unconverted: [`${C}:spec.bgpInstances[0]`],
  },
  {
    page: `${V2} § BGP Peer Configuration: Timers, Transport (with the cluster config)`,
    yaml: [
      CLUSTER_CONFIG,
      `
apiVersion: cilium.io/v2
kind: CiliumBGPPeerConfig
metadata: {name: cilium-peer}
spec:
  timers:
    connectRetryTimeSeconds: 5
    holdTimeSeconds: 9
    keepAliveTimeSeconds: 3
  transport:
    peerPort: 179
`,
    ].join("\n---\n"),
    carried: {
      ...CLUSTER_CARRIED,
      [`${C}:spec.bgpInstances[0].peers[0].peerConfigRef`]: [`${TOR1}:spec.holdTime`, 9],
      [`${C}:spec.bgpInstances[0].peers[1].peerConfigRef`]: [`${TOR2}:spec.holdTime`, 9],
      [`${F}:spec.timers.holdTimeSeconds`]: `${TOR1}:spec.holdTime`,
      [`${F}:spec.timers.keepAliveTimeSeconds`]: `${TOR1}:spec.keepaliveTime`,
      [`${F}:spec.transport.peerPort`]: [`${TOR1}:spec.port`, undefined],
    },
    unconverted: [`${F}:spec.timers.connectRetryTimeSeconds`],
  },
  {
    page: `${V2} § BGP Peer Configuration: MD5 Password (the peer config alone)`,
    yaml: `
apiVersion: cilium.io/v2
kind: CiliumBGPPeerConfig
metadata: {name: cilium-peer}
spec:
  authSecretRef: bgp-auth-secret
`,
    carried: {},
    unconverted: [`${F}:spec`],
  },
  {
    page: `${V2} § BGP Attributes (pod prefixes)`,
    yaml: v2(`  - advertisementType: PodCIDR
    attributes:
      communities:
        standard: ["65000:99"]
      localPreference: 99
`),
    carried: { ...CLUSTER_CARRIED, ...FAMILIES_CARRIED },
    unconverted: [
      `${F}:spec.families[0].advertisements`,
      `${F}:spec.families[1].advertisements`,
      `${A}:metadata.labels`,
      `${A}:spec.advertisements[0]`,
    ],
  },
  {
    page: `${V2} § Advertisement Types: MultiPool IPAM (with the CiliumPodIPPool)`,
    yaml: `
apiVersion: cilium.io/v2
kind: CiliumPodIPPool
metadata:
  name: default
  labels: {pool: blue}
---
${advertisement(`  - advertisementType: CiliumPodIPPool
    selector:
      matchLabels: {pool: blue}
`)}`,
    carried: {},
    unconverted: [`${A}:metadata.labels`, `${A}:spec.advertisements[0]`],
    ignored: ["CiliumPodIPPool/default"],
  },
  {
    page: `${V2} § Service Virtual IPs (ClusterIP, ExternalIP, LoadBalancerIP)`,
    yaml: v2(services("ClusterIP, ExternalIP, LoadBalancerIP", BLUE)),
    carried: {
      ...CLUSTER_CARRIED,
      ...FAMILIES_CARRIED,
      ...FAMILIES_ADVERTISED,
      ...ADVERTISED,
      [`${A}:spec.advertisements[0].advertisementType`]: [
        "BGPAdvertisement/bgp-advertisements:spec.peers",
        ["peer-65000-tor1", "peer-65000-tor2"],
      ],
      [`${A}:spec.advertisements[0].service.addresses[2]`]: [
        "BGPAdvertisement/bgp-advertisements:spec.peers",
        ["peer-65000-tor1", "peer-65000-tor2"],
      ],
    },
    unconverted: [
      `${A}:spec.advertisements[0].service.addresses[0]`,
      `${A}:spec.advertisements[0].service.addresses[1]`,
      `${A}:spec.advertisements[0].selector`,
    ],
  },
  {
    page: `${V2} § Service Virtual IPs: ExternalIP`,
    yaml: v2(services("ExternalIP", BLUE)),
    carried: { ...CLUSTER_CARRIED, ...FAMILIES_CARRIED },
    unconverted: [
      `${F}:spec.families[0].advertisements`,
      `${F}:spec.families[1].advertisements`,
      `${A}:metadata.labels`,
      `${A}:spec.advertisements[0]`,
    ],
  },
  {
    page: `${V2} § Service Virtual IPs: Load Balancer IP (every service)`,
    yaml: v2(services("LoadBalancerIP", EVERY)),
    carried: {
      ...CLUSTER_CARRIED,
      ...FAMILIES_CARRIED,
      ...FAMILIES_ADVERTISED,
      ...ADVERTISED,
      [`${A}:spec.advertisements[0]`]: [
        "BGPAdvertisement/bgp-advertisements:spec",
        { peers: ["peer-65000-tor1", "peer-65000-tor2"] },
      ],
    },
    unconverted: [],
  },
  {
    page: `${V2} § Overlapping Advertisements`,
    yaml: v2(`  - advertisementType: Service
    service:
      addresses: [LoadBalancerIP]
    selector:
      matchExpressions:
      - {key: vpc1, operator: In, values: ["true"]}
    attributes:
      communities:
        large: ["1111:1111:1111"]
  - advertisementType: Service
    service:
      addresses: [LoadBalancerIP]
    selector:
      matchExpressions:
      - {key: vpc2, operator: In, values: ["true"]}
    attributes:
      communities:
        large: ["2222:2222:2222"]
`),
    carried: {
      ...CLUSTER_CARRIED,
      ...FAMILIES_CARRIED,
      [`${F}:spec.families[0].advertisements`]: [
        "BGPAdvertisement/bgp-advertisements-1:spec.peers",
        ["peer-65000-tor1", "peer-65000-tor2"],
      ],
      [`${F}:spec.families[1].advertisements`]: [
        "BGPAdvertisement/bgp-advertisements-2:spec.peers",
        ["peer-65000-tor1", "peer-65000-tor2"],
      ],
      [`${A}:metadata.labels`]: [
        "BGPAdvertisement/bgp-advertisements-1:spec.peers",
        ["peer-65000-tor1", "peer-65000-tor2"],
      ],
      [`${A}:spec.advertisements[0].advertisementType`]: [
        "BGPAdvertisement/bgp-advertisements-1:spec.peers",
        ["peer-65000-tor1", "peer-65000-tor2"],
      ],
      [`${A}:spec.advertisements[0].service`]: [
        "BGPAdvertisement/bgp-advertisements-1:spec.peers",
        ["peer-65000-tor1", "peer-65000-tor2"],
      ],
      [`${A}:spec.advertisements[0].attributes.communities.large`]:
        "BGPAdvertisement/bgp-advertisements-1:spec.largeCommunities",
      [`${A}:spec.advertisements[1].advertisementType`]: [
        "BGPAdvertisement/bgp-advertisements-2:spec.peers",
        ["peer-65000-tor1", "peer-65000-tor2"],
      ],
      [`${A}:spec.advertisements[1].service`]: [
        "BGPAdvertisement/bgp-advertisements-2:spec.peers",
        ["peer-65000-tor1", "peer-65000-tor2"],
      ],
      [`${A}:spec.advertisements[1].attributes.communities.large`]:
        "BGPAdvertisement/bgp-advertisements-2:spec.largeCommunities",
    },
    // Herald cannot choose services by label: both sets of communities go to every pool.
    unconverted: [`${A}:spec.advertisements[0].selector`, `${A}:spec.advertisements[1].selector`],
  },
  {
    page: `${V2} § Prefix Aggregation (with a pool the lengths fit)`,
    yaml: v2(
      services(
        "ClusterIP, ExternalIP, LoadBalancerIP",
        EVERY,
        "      aggregationLengthIPv4: 24\n      aggregationLengthIPv6: 120\n",
      ),
      `
apiVersion: cilium.io/v2
kind: CiliumLoadBalancerIPPool
metadata: {name: blue-pool}
spec:
  blocks:
  - cidr: 20.0.10.0/24
  - cidr: 2004::/120
`,
    ),
    carried: {
      ...CLUSTER_CARRIED,
      ...FAMILIES_CARRIED,
      ...FAMILIES_ADVERTISED,
      ...ADVERTISED,
      [`${A}:spec.advertisements[0].advertisementType`]: [
        "BGPAdvertisement/bgp-advertisements:spec.peers",
        ["peer-65000-tor1", "peer-65000-tor2"],
      ],
      [`${A}:spec.advertisements[0].service.addresses[2]`]: [
        "BGPAdvertisement/bgp-advertisements:spec.peers",
        ["peer-65000-tor1", "peer-65000-tor2"],
      ],
      [`${A}:spec.advertisements[0].selector`]: [
        "BGPAdvertisement/bgp-advertisements:spec.peers",
        ["peer-65000-tor1", "peer-65000-tor2"],
      ],
      [`${A}:spec.advertisements[0].service.aggregationLengthIPv4`]:
        "AddressPool/blue-pool:spec.aggregation.ipv4",
      [`${A}:spec.advertisements[0].service.aggregationLengthIPv6`]:
        "AddressPool/blue-pool:spec.aggregation.ipv6",
      "CiliumLoadBalancerIPPool/blue-pool:spec.blocks[0].cidr":
        "AddressPool/blue-pool:spec.addresses[0]",
      "CiliumLoadBalancerIPPool/blue-pool:spec.blocks[1].cidr":
        "AddressPool/blue-pool:spec.addresses[1]",
    },
    unconverted: [
      `${A}:spec.advertisements[0].service.addresses[0]`,
      `${A}:spec.advertisements[0].service.addresses[1]`,
    ],
  },
  {
    page: `${V2} § Interface IPs`,
    yaml: v2(`  - advertisementType: Interface
    interface: {name: lo}
`),
    carried: { ...CLUSTER_CARRIED, ...FAMILIES_CARRIED },
    unconverted: [
      `${F}:spec.families[0].advertisements`,
      `${F}:spec.families[1].advertisements`,
      `${A}:metadata.labels`,
      `${A}:spec.advertisements[0]`,
    ],
  },
  {
    page: `${V2} § BGP Configuration Override`,
    yaml: `
apiVersion: cilium.io/v2
kind: CiliumBGPNodeConfigOverride
metadata: {name: bgp-cplane-dev-multi-homing-worker}
spec:
  bgpInstances:
  - name: instance-65000
    routerID: 192.168.10.1
    localPort: 1790
    localASN: 65010
    peers:
    - {name: peer-65000-tor1, localAddress: "fd00:10:0:2::2"}
    - {name: peer-65000-tor2, localAddress: "fd00:11:0:2::2"}
`,
    carried: {},
    unconverted: ["CiliumBGPNodeConfigOverride/bgp-cplane-dev-multi-homing-worker:spec"],
  },
];
