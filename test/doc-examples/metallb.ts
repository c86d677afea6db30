// MetalLB's configuration pages (metallb.universe.tf, website/content/configuration/ of
// metallb/metallb): _index.md, _advanced_bgp_configuration.md, _advanced_l2_configuration.md,
// _advanced_ipaddresspool_configuration.md; and BGPPeer's localASN (metallb/metallb#2997).
import type { DocExample } from "./example.ts";

const CONFIGURATION = "metallb.universe.tf/configuration/";
const ADVANCED_BGP = "metallb.universe.tf/configuration/_advanced_bgp_configuration/";
const ADVANCED_L2 = "metallb.universe.tf/configuration/_advanced_l2_configuration/";
const ADVANCED_POOL = "metallb.universe.tf/configuration/_advanced_ipaddresspool_configuration/";

/** The pool the advanced BGP page starts from, which its later examples select. */
const ADVANCED_FIRST_POOL = `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: first-pool, namespace: metallb-system}
spec:
  addresses: [198.51.100.10/24]
`;

export const METALLB_EXAMPLES: readonly DocExample[] = [
  {
    page: `${CONFIGURATION} § Defining the IPs to assign`,
    yaml: `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: first-pool, namespace: metallb-system}
spec:
  addresses: [192.168.10.0/24, 192.168.9.1-192.168.9.5, "fc00:f853:0ccd:e799::/124"]
`,
    carried: {
      "IPAddressPool/first-pool:spec.addresses[0]": "AddressPool/first-pool:spec.addresses[0]",
      "IPAddressPool/first-pool:spec.addresses[1]": "AddressPool/first-pool:spec.addresses[1]",
      "IPAddressPool/first-pool:spec.addresses[2]": [
        "AddressPool/first-pool:spec.addresses[2]",
        "fc00:f853:ccd:e799::/124",
      ],
    },
    unconverted: [],
  },
  {
    page: `${CONFIGURATION} § Layer 2 configuration (an L2Advertisement for every pool)`,
    yaml: `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: first-pool, namespace: metallb-system}
spec:
  addresses: [192.168.1.240-192.168.1.250]
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: example, namespace: metallb-system}
`,
    carried: {
      "IPAddressPool/first-pool:spec.addresses": "AddressPool/first-pool:spec.addresses",
    },
    unconverted: [],
  },
  {
    page: `${CONFIGURATION} § Layer 2 configuration (naming the pool)`,
    yaml: `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: first-pool, namespace: metallb-system}
spec:
  addresses: [192.168.1.240-192.168.1.250]
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: example, namespace: metallb-system}
spec:
  ipAddressPools: [first-pool]
`,
    carried: {
      "IPAddressPool/first-pool:spec.addresses": "AddressPool/first-pool:spec.addresses",
      "L2Advertisement/example:spec.ipAddressPools": [
        "AddressPool/first-pool:spec.announce",
        "Local",
      ],
    },
    unconverted: [],
  },
  {
    page: `${CONFIGURATION} § BGP configuration`,
    yaml: `
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: sample, namespace: metallb-system}
spec:
  myASN: 64500
  peerASN: 64501
  peerAddress: 10.0.0.1
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: first-pool, namespace: metallb-system}
spec:
  addresses: [192.168.1.240-192.168.1.250]
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: example, namespace: metallb-system}
spec:
  ipAddressPools: [first-pool]
`,
    carried: {
      "BGPPeer/sample:spec.myASN": "BGPPeer/sample:spec.localASN",
      "BGPPeer/sample:spec.peerASN": "BGPPeer/sample:spec.peerASN",
      "BGPPeer/sample:spec.peerAddress": "BGPPeer/sample:spec.peerAddress",
      "IPAddressPool/first-pool:spec.addresses": "AddressPool/first-pool:spec.addresses",
      "BGPAdvertisement/example:spec.ipAddressPools": "BGPAdvertisement/example:spec.pools",
    },
    unconverted: [],
  },
  {
    page: `${CONFIGURATION} § Enabling BFD support for BGP sessions`,
    yaml: `
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: testbfdprofile, namespace: metallb-system}
spec:
  receiveInterval: 380
  transmitInterval: 270
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: peersample, namespace: metallb-system}
spec:
  myASN: 64512
  peerASN: 64512
  peerAddress: 172.30.0.3
  bfdProfile: testbfdprofile
`,
    carried: {
      "BFDProfile/testbfdprofile:spec.receiveInterval": "BGPPeer/peersample:spec.bfd.minRxMs",
      "BFDProfile/testbfdprofile:spec.transmitInterval": "BGPPeer/peersample:spec.bfd.minTxMs",
      "BGPPeer/peersample:spec.myASN": "BGPPeer/peersample:spec.localASN",
      "BGPPeer/peersample:spec.peerASN": "BGPPeer/peersample:spec.peerASN",
      "BGPPeer/peersample:spec.peerAddress": "BGPPeer/peersample:spec.peerAddress",
      "BGPPeer/peersample:spec.bfdProfile": [
        "BGPPeer/peersample:spec.bfd",
        { minRxMs: 380, minTxMs: 270 },
      ],
    },
    unconverted: [],
  },
  {
    page: `${ADVANCED_BGP} § Advertisement configuration (a /32 for inside, a /24 for transit)`,
    yaml: `${ADVANCED_FIRST_POOL}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: local, namespace: metallb-system}
spec:
  ipAddressPools: [first-pool]
  aggregationLength: 32
  localPref: 100
  communities: ["65535:65282"]
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: external, namespace: metallb-system}
spec:
  ipAddressPools: [first-pool]
  aggregationLength: 24
`,
    carried: {
      "IPAddressPool/first-pool:spec.addresses[0]": [
        "AddressPool/first-pool:spec.addresses[0]",
        "198.51.100.0/24",
      ],
      "BGPAdvertisement/local:spec.ipAddressPools": "BGPAdvertisement/local:spec.pools",
      "BGPAdvertisement/local:spec.aggregationLength": [
        "AddressPool/first-pool:spec.aggregation",
        undefined,
      ],
      "BGPAdvertisement/local:spec.localPref": "BGPAdvertisement/local:spec.localPreference",
      "BGPAdvertisement/local:spec.communities": [
        "BGPAdvertisement/local:spec.communities",
        ["65535:65282"],
      ],
      "BGPAdvertisement/external:spec.ipAddressPools": "BGPAdvertisement/external:spec.pools",
    },
    // Herald has one aggregation per pool: the /32 wins, the covering /24 is not announced.
    unconverted: ["BGPAdvertisement/external:spec.aggregationLength"],
  },
  {
    page: `${ADVANCED_BGP} § Advertisement configuration (the /24 advertisement alone)`,
    yaml: `
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: external, namespace: metallb-system}
spec:
  ipAddressPools: [first-pool]
  aggregationLength: 24
`,
    carried: {
      "BGPAdvertisement/external:spec.ipAddressPools": "BGPAdvertisement/external:spec.pools",
    },
    // Herald keeps the aggregation on the pool, which is not in the input.
    unconverted: ["BGPAdvertisement/external:spec.aggregationLength"],
  },
  {
    page: `${ADVANCED_BGP} § Advertisement configuration (the /24 advertisement with its pool)`,
    yaml: `${ADVANCED_FIRST_POOL}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: external, namespace: metallb-system}
spec:
  ipAddressPools: [first-pool]
  aggregationLength: 24
`,
    carried: {
      "IPAddressPool/first-pool:spec.addresses": [
        "AddressPool/first-pool:spec.addresses",
        ["198.51.100.0/24"],
      ],
      "BGPAdvertisement/external:spec.ipAddressPools": "BGPAdvertisement/external:spec.pools",
      "BGPAdvertisement/external:spec.aggregationLength":
        "AddressPool/first-pool:spec.aggregation.ipv4",
    },
    unconverted: [],
  },
  {
    page: `${ADVANCED_BGP} § Limiting peers to certain nodes`,
    yaml: `
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: example, namespace: metallb-system}
spec:
  myASN: 64512
  peerASN: 64512
  peerAddress: 172.30.0.3
  peerPort: 180
  nodeSelectors:
  - matchLabels: {rack: frontend}
    matchExpressions:
    - {key: network-speed, operator: NotIn, values: [slow]}
  - matchExpressions:
    - {key: kubernetes.io/hostname, operator: In, values: [hostA, hostB]}
`,
    carried: {
      "BGPPeer/example:spec.myASN": "BGPPeer/example:spec.localASN",
      "BGPPeer/example:spec.peerASN": "BGPPeer/example:spec.peerASN",
      "BGPPeer/example:spec.peerAddress": "BGPPeer/example:spec.peerAddress",
      "BGPPeer/example:spec.peerPort": "BGPPeer/example:spec.port",
    },
    // Two selectors one LabelSelector cannot OR: left unset, with a warning.
    unconverted: ["BGPPeer/example:spec.nodeSelectors"],
  },
  {
    page: `${ADVANCED_BGP} § Announcing the Service from a subset of nodes`,
    yaml: `${ADVANCED_FIRST_POOL}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: example, namespace: metallb-system}
spec:
  ipAddressPools: [first-pool]
  nodeSelectors:
  - matchLabels: {kubernetes.io/hostname: NodeA}
  - matchLabels: {kubernetes.io/hostname: NodeB}
`,
    carried: {
      "IPAddressPool/first-pool:spec.addresses": [
        "AddressPool/first-pool:spec.addresses",
        ["198.51.100.0/24"],
      ],
      "BGPAdvertisement/example:spec.ipAddressPools": "BGPAdvertisement/example:spec.pools",
      "BGPAdvertisement/example:spec.nodeSelectors": [
        "AddressPool/first-pool:spec.nodeSelector",
        {
          matchExpressions: [
            { key: "kubernetes.io/hostname", operator: "In", values: ["NodeA", "NodeB"] },
          ],
        },
      ],
    },
    unconverted: [],
  },
  {
    page: `${ADVANCED_BGP} § Announcing the Service to a subset of peers`,
    yaml: `
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: example, namespace: metallb-system}
spec:
  ipAddressPools: [PoolA]
  peers: [PeerA, PeerB]
`,
    carried: {},
    // "PoolA" and "PeerA" cannot name Kubernetes objects: MetalLB advertised nothing.
    unconverted: ["BGPAdvertisement/example:spec"],
  },
  {
    page: `${ADVANCED_BGP} § Configuring the BGP source address`,
    yaml: `
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: example, namespace: metallb-system}
spec:
  myASN: 64512
  peerASN: 64512
  peerAddress: 172.30.0.3
  peerPort: 179
  sourceAddress: 172.30.0.2
  nodeSelectors:
  - matchLabels: {kubernetes.io/hostname: node-1}
`,
    carried: {
      "BGPPeer/example:spec.myASN": "BGPPeer/example:spec.localASN",
      "BGPPeer/example:spec.peerASN": "BGPPeer/example:spec.peerASN",
      "BGPPeer/example:spec.peerAddress": "BGPPeer/example:spec.peerAddress",
      "BGPPeer/example:spec.peerPort": ["BGPPeer/example:spec.port", undefined],
      "BGPPeer/example:spec.nodeSelectors[0]": "BGPPeer/example:spec.nodeSelector",
    },
    unconverted: ["BGPPeer/example:spec.sourceAddress"],
  },
  {
    page: `${ADVANCED_BGP} § Community Aliases`,
    yaml: `${ADVANCED_FIRST_POOL}
---
apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: communities, namespace: metallb-system}
spec:
  communities:
  - {name: vpn-only, value: "1234:1"}
  - {name: NO_ADVERTISE, value: "65535:65282"}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: local, namespace: metallb-system}
spec:
  ipAddressPools: [first-pool]
  aggregationLength: 32
  localPref: 100
  communities: [vpn-only]
`,
    carried: {
      "IPAddressPool/first-pool:spec.addresses": [
        "AddressPool/first-pool:spec.addresses",
        ["198.51.100.0/24"],
      ],
      "Community/communities:spec.communities[0]": [
        "BGPAdvertisement/local:spec.communities",
        ["1234:1"],
      ],
      "BGPAdvertisement/local:spec.ipAddressPools": "BGPAdvertisement/local:spec.pools",
      "BGPAdvertisement/local:spec.aggregationLength": [
        "AddressPool/first-pool:spec.aggregation",
        undefined,
      ],
      "BGPAdvertisement/local:spec.localPref": "BGPAdvertisement/local:spec.localPreference",
      "BGPAdvertisement/local:spec.communities": [
        "BGPAdvertisement/local:spec.communities",
        ["1234:1"],
      ],
    },
    // An alias no advertisement uses carries nothing (Herald writes communities by value).
    unconverted: ["Community/communities:spec.communities[1]"],
  },
  {
    page: `${ADVANCED_BGP} § Peering and announcing via a VRF`,
    yaml: `
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: example, namespace: metallb-system}
spec:
  myASN: 64512
  peerASN: 64512
  peerAddress: 172.30.0.3
  peerPort: 179
  vrf: red
`,
    carried: {
      "BGPPeer/example:spec.myASN": "BGPPeer/example:spec.localASN",
      "BGPPeer/example:spec.peerASN": "BGPPeer/example:spec.peerASN",
      "BGPPeer/example:spec.peerAddress": "BGPPeer/example:spec.peerAddress",
      "BGPPeer/example:spec.peerPort": ["BGPPeer/example:spec.port", undefined],
    },
    unconverted: ["BGPPeer/example:spec.vrf"],
  },
  {
    page: `${ADVANCED_BGP} § Configuring with FRR-K8s`,
    yaml: `
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: peer, namespace: metallb-system}
spec:
  myASN: 64512
  peerASN: 64512
  peerAddress: 172.30.0.3
---
apiVersion: frrk8s.metallb.io/v1beta1
kind: FRRConfiguration
metadata: {name: with-recv, namespace: metallb-system}
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - address: 172.30.0.3
        asn: 64512
        toReceive:
          allowed: {mode: all}
`,
    carried: {
      "BGPPeer/peer:spec.myASN": "BGPPeer/peer:spec.localASN",
      "BGPPeer/peer:spec.peerASN": "BGPPeer/peer:spec.peerASN",
      "BGPPeer/peer:spec.peerAddress": "BGPPeer/peer:spec.peerAddress",
    },
    unconverted: [],
    // FRR-K8s is another project's API; Herald's BIRD takes no routes from peers anyway.
    ignored: ["FRRConfiguration/with-recv"],
  },
  {
    page: `${ADVANCED_BGP} § Graceful Restart`,
    yaml: `
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: example, namespace: metallb-system}
spec:
  myASN: 64512
  peerASN: 64512
  peerAddress: 172.30.0.3
  enableGracefulRestart: true
`,
    carried: {
      "BGPPeer/example:spec.myASN": "BGPPeer/example:spec.localASN",
      "BGPPeer/example:spec.peerASN": "BGPPeer/example:spec.peerASN",
      "BGPPeer/example:spec.peerAddress": "BGPPeer/example:spec.peerAddress",
    },
    unconverted: ["BGPPeer/example:spec.enableGracefulRestart"],
  },
  {
    page: "metallb.universe.tf/apis/ § BGPPeerSpec.localASN (metallb/metallb#2997)",
    yaml: `
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: isp-a, namespace: metallb-system}
spec:
  myASN: 65400
  localASN: 65410
  peerASN: 64500
  peerAddress: 192.168.1.1
  ebgpMultiHop: true
`,
    carried: {
      "BGPPeer/isp-a:spec.localASN": "BGPPeer/isp-a:spec.localASN",
      "BGPPeer/isp-a:spec.peerASN": "BGPPeer/isp-a:spec.peerASN",
      "BGPPeer/isp-a:spec.peerAddress": "BGPPeer/isp-a:spec.peerAddress",
      "BGPPeer/isp-a:spec.ebgpMultiHop": ["BGPPeer/isp-a:spec.ebgpMultihop", 255],
    },
    // The router-wide AS, which no router saw: FRR replaced it with localASN on this session.
    unconverted: ["BGPPeer/isp-a:spec.myASN"],
  },
  {
    page: `${ADVANCED_L2} § Limiting the set of nodes (with the first pool of the configuration page)`,
    yaml: `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: first-pool, namespace: metallb-system}
spec:
  addresses: [192.168.1.240-192.168.1.250]
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: example, namespace: metallb-system}
spec:
  ipAddressPools: [first-pool]
  nodeSelectors:
  - matchLabels: {kubernetes.io/hostname: NodeA}
  - matchLabels: {kubernetes.io/hostname: NodeB}
`,
    carried: {
      "IPAddressPool/first-pool:spec.addresses": "AddressPool/first-pool:spec.addresses",
      "L2Advertisement/example:spec.ipAddressPools": [
        "AddressPool/first-pool:spec.announce",
        "Local",
      ],
      "L2Advertisement/example:spec.nodeSelectors": [
        "AddressPool/first-pool:spec.nodeSelector",
        {
          matchExpressions: [
            { key: "kubernetes.io/hostname", operator: "In", values: ["NodeA", "NodeB"] },
          ],
        },
      ],
    },
    unconverted: [],
  },
  {
    page: `${ADVANCED_L2} § Limiting the set of nodes (second-pool, not on the page)`,
    yaml: `
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: example, namespace: metallb-system}
spec:
  ipAddressPools: [second-pool]
  nodeSelectors:
  - matchLabels: {kubernetes.io/hostname: NodeC}
`,
    carried: {},
    // Herald keeps nodeSelector on the pool; with no pool in the input it has nowhere to go.
    unconverted: ["L2Advertisement/example:spec"],
  },
  {
    page: `${ADVANCED_L2} § Specify network interfaces`,
    yaml: `
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: example, namespace: metallb-system}
spec:
  ipAddressPools: [third-pool]
  interfaces: [eth0, eth1]
`,
    carried: {},
    unconverted: ["L2Advertisement/example:spec"],
  },
  {
    page: `${ADVANCED_L2} § Specify network interfaces (with nodeSelectors, and the pool)`,
    yaml: `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: fourth-pool, namespace: metallb-system}
spec:
  addresses: [192.168.4.0/24]
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: example, namespace: metallb-system}
spec:
  ipAddressPools: [fourth-pool]
  nodeSelectors:
  - matchLabels: {kubernetes.io/hostname: NodeA}
  interfaces: [eth3]
`,
    carried: {
      "IPAddressPool/fourth-pool:spec.addresses": "AddressPool/fourth-pool:spec.addresses",
      "L2Advertisement/example:spec.ipAddressPools": [
        "AddressPool/fourth-pool:spec.announce",
        "Local",
      ],
      "L2Advertisement/example:spec.nodeSelectors[0]": "AddressPool/fourth-pool:spec.nodeSelector",
      "L2Advertisement/example:spec.interfaces": [
        "AddressPool/fourth-pool:spec.interfaces",
        ["^eth3$"],
      ],
    },
    unconverted: [],
  },
  {
    page: `${ADVANCED_L2} § the union of interfaces (as the page spells it)`,
    yaml: `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: pool1, namespace: metallb-system}
spec:
  addresses: [192.168.1.0/24]
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: example-advertisement9, namespace: metallb-system}
spec:
  interfaces: [eno1]
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: example-advertisement10, namespace: metallb-system}
spec:
  ipaddresspools: [pool1]
  nodeSelector:
  - kubernetes.io/hostname: hostB
  interfaces: [ens18]
`,
    carried: {
      "IPAddressPool/pool1:spec.addresses": "AddressPool/pool1:spec.addresses",
      "L2Advertisement/example-advertisement9:spec.interfaces": [
        "AddressPool/pool1:spec.interfaces",
        ["^eno1$", "^ens18$"],
      ],
      "L2Advertisement/example-advertisement10:spec.interfaces": [
        "AddressPool/pool1:spec.interfaces",
        ["^eno1$", "^ens18$"],
      ],
    },
    // Misspelt on the page: the API server prunes them, MetalLB never sees them.
    unconverted: [
      "L2Advertisement/example-advertisement10:spec.ipaddresspools",
      "L2Advertisement/example-advertisement10:spec.nodeSelector",
    ],
  },
  {
    page: `${ADVANCED_POOL} § Controlling automatic address allocation`,
    yaml: `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: cheap, namespace: metallb-system}
spec:
  addresses: [192.168.10.0/24]
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: expensive, namespace: metallb-system}
spec:
  addresses: [42.176.25.64/30]
  autoAssign: false
`,
    carried: {
      "IPAddressPool/cheap:spec.addresses": "AddressPool/cheap:spec.addresses",
      "IPAddressPool/expensive:spec.addresses": "AddressPool/expensive:spec.addresses",
      "IPAddressPool/expensive:spec.autoAssign": "AddressPool/expensive:spec.autoAssign",
    },
    unconverted: [],
  },
  {
    page: `${ADVANCED_POOL} § Reduce scope of address allocation`,
    yaml: `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: ippool-ns-service-alloc-sample, namespace: metallb-system}
spec:
  addresses: [192.168.20.0/24]
  avoidBuggyIPs: true
  serviceAllocation:
    priority: 50
    namespaces: [namespace-a, namespace-b]
    namespaceSelectors:
    - matchLabels: {foo: bar}
    serviceSelectors:
    - matchExpressions:
      - {key: app, operator: In, values: [bar]}
`,
    carried: {
      "IPAddressPool/ippool-ns-service-alloc-sample:spec.addresses":
        "AddressPool/ippool-ns-service-alloc-sample:spec.addresses",
      "IPAddressPool/ippool-ns-service-alloc-sample:spec.avoidBuggyIPs":
        "AddressPool/ippool-ns-service-alloc-sample:spec.avoidBuggyIPs",
      "IPAddressPool/ippool-ns-service-alloc-sample:spec.serviceAllocation.priority":
        "AddressPool/ippool-ns-service-alloc-sample:spec.priority",
      "IPAddressPool/ippool-ns-service-alloc-sample:spec.serviceAllocation.namespaces":
        "AddressPool/ippool-ns-service-alloc-sample:spec.allocation.namespaces",
      "IPAddressPool/ippool-ns-service-alloc-sample:spec.serviceAllocation.namespaceSelectors[0]":
        "AddressPool/ippool-ns-service-alloc-sample:spec.allocation.namespaceSelector",
      "IPAddressPool/ippool-ns-service-alloc-sample:spec.serviceAllocation.serviceSelectors[0]":
        "AddressPool/ippool-ns-service-alloc-sample:spec.allocation.serviceSelector",
    },
    unconverted: [],
  },
];
