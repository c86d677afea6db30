// PureLB's pages (purelb.io, website/content/ of purelb/purelb): docs/configuration/
// service-groups, lbnodeagent and bgp (k8gobgp's BGPConfiguration), and the v1 pages
// install/config (ServiceGroup and LBNodeAgent of purelb.io/v1).
import type { DocExample } from "./example.ts";

const GROUPS = "purelb.io/docs/configuration/service-groups/";
const AGENT = "purelb.io/docs/configuration/lbnodeagent/";
const BGP = "purelb.io/docs/configuration/bgp/";
const V1 = "purelb.io/install/config/";

function group(name: string, spec: string, version = "v2"): string {
  return `
apiVersion: purelb.io/${version}
kind: ServiceGroup
metadata: {name: ${name}, namespace: purelb-system}
spec:
${spec}`;
}

function agent(name: string, spec: string, version = "v2"): string {
  return `
apiVersion: purelb.io/${version}
kind: LBNodeAgent
metadata: {name: ${name}, namespace: purelb-system}
spec:
${spec}`;
}

const G = (name: string) => `ServiceGroup/${name}`;
const POOL = (name: string) => `AddressPool/${name}`;
const LBNA = "LBNodeAgent/default";
const AGENT_CONFIG = "AgentConfig/default";

/** The BGPConfiguration of the BGP page, whose neighbors the later sections vary. */
function bgpConfiguration(neighbors: string): string {
  return `
apiVersion: bgp.purelb.io/v1
kind: BGPConfiguration
metadata: {name: default, namespace: purelb-system}
spec:
  global:
    asn: 65000
    routerID: ""
    listenPort: 179
    families: [ipv4-unicast, ipv6-unicast]
  netlinkImport:
    enabled: true
    interfaceList: [kube-lb0]
  neighbors:
${neighbors}`;
}

const BGPC = "BGPConfiguration/default";

/** What the global part and the import carry, for the BGP peer named `peer`. */
function bgpCarried(peer: string, peers: string[]) {
  return {
    [`${BGPC}:spec.global.asn`]: `BGPPeer/${peer}:spec.localASN`,
    [`${BGPC}:spec.global.routerID`]: [`BGPPeer/${peer}:spec.routerID`, undefined],
    [`${BGPC}:spec.global.listenPort`]: [`BGPPeer/${peer}:spec.port`, undefined],
    [`${BGPC}:spec.global.families`]: [`BGPPeer/${peer}:spec.families`, ["IPv4", "IPv6"]],
    [`${BGPC}:spec.netlinkImport`]: ["BGPAdvertisement/default:spec", { peers }],
  } as const;
}

const BOTH_FAMILIES = `    afiSafis:
    - {family: ipv4-unicast, enabled: true}
    - {family: ipv6-unicast, enabled: true}
`;

export const PURELB_EXAMPLES: readonly DocExample[] = [
  {
    page: `${GROUPS} § Restricting a ServiceGroup to Namespaces`,
    yaml: group(
      "tenant-a-pool",
      `  namespaces: [tenant-a, tenant-a-staging]
  local:
    v4pools:
    - {subnet: 172.30.250.0/24, pool: 172.30.250.100-172.30.250.150}
    v6pools:
    - {subnet: "2001:470:b8f3:250::/64", pool: "2001:470:b8f3:250::100-2001:470:b8f3:250::150"}
`,
    ),
    carried: {
      [`${G("tenant-a-pool")}:spec.local.v4pools[0].pool`]: `${POOL("tenant-a-pool")}:spec.addresses[0]`,
      [`${G("tenant-a-pool")}:spec.local.v6pools[0].pool`]: `${POOL("tenant-a-pool")}:spec.addresses[1]`,
      [`${G("tenant-a-pool")}:spec.local.v4pools[0].subnet`]: [
        `${POOL("tenant-a-pool")}:spec.aggregation`,
        undefined,
      ],
      [`${G("tenant-a-pool")}:spec.local.v6pools[0].subnet`]: [
        `${POOL("tenant-a-pool")}:spec.aggregation`,
        undefined,
      ],
      [`${G("tenant-a-pool")}:spec.local`]: [`${POOL("tenant-a-pool")}:spec.announce`, "Local"],
    },
    // A default for those namespaces in PureLB, a boundary in Herald: warned about.
    unconverted: [`${G("tenant-a-pool")}:spec.namespaces`],
  },
  {
    page: `${GROUPS} § Several ServiceGroups may serve one namespace (namespaceDefault), enforced`,
    yaml: [
      group(
        "tenant-a-l2",
        `  namespaces: [tenant-a]
  namespaceDefault: true
  enforceNamespaces: true
  local:
    v4pools:
    - {subnet: 192.168.1.0/24, pool: 192.168.1.240-192.168.1.250}
`,
      ),
      group(
        "tenant-a-bgp",
        `  namespaces: [tenant-a]
  enforceNamespaces: true
  remote:
    v4pools:
    - {subnet: 172.31.0.0/24, pool: 172.31.0.0/26, aggregation: /32}
`,
      ),
    ].join("---"),
    carried: {
      [`${G("tenant-a-l2")}:spec.namespaces`]: `${POOL("tenant-a-l2")}:spec.allocation.namespaces`,
      [`${G("tenant-a-l2")}:spec.namespaceDefault`]: [`${POOL("tenant-a-l2")}:spec.priority`, 0],
      [`${G("tenant-a-l2")}:spec.local.v4pools[0].pool`]: `${POOL("tenant-a-l2")}:spec.addresses[0]`,
      [`${G("tenant-a-l2")}:spec.local.v4pools[0].subnet`]: [
        `${POOL("tenant-a-l2")}:spec.announce`,
        "Local",
      ],
      [`${G("tenant-a-bgp")}:spec.namespaces`]: `${POOL("tenant-a-bgp")}:spec.allocation.namespaces`,
      [`${G("tenant-a-bgp")}:spec.remote.v4pools[0].pool`]: `${POOL("tenant-a-bgp")}:spec.addresses[0]`,
      [`${G("tenant-a-bgp")}:spec.remote.v4pools[0].subnet`]: [
        `${POOL("tenant-a-bgp")}:spec.announce`,
        "Routed",
      ],
      [`${G("tenant-a-bgp")}:spec.remote.v4pools[0].aggregation`]: [
        `${POOL("tenant-a-bgp")}:spec.aggregation`,
        undefined,
      ],
    },
    // Herald fences the pools, not the namespace: warned about.
    unconverted: [
      `${G("tenant-a-l2")}:spec.enforceNamespaces`,
      `${G("tenant-a-bgp")}:spec.enforceNamespaces`,
    ],
  },
  {
    page: `${GROUPS} § Local Pools`,
    yaml: group(
      "default",
      `  local:
    v4pools:
    - {subnet: 192.168.1.0/24, pool: 192.168.1.240-192.168.1.250, aggregation: default}
    v6pools:
    - {subnet: "fd00:1::/64", pool: "fd00:1::f0-fd00:1::ff", aggregation: default}
`,
    ),
    carried: {
      [`${G("default")}:spec.local.v4pools[0].pool`]: `${POOL("default")}:spec.addresses[0]`,
      [`${G("default")}:spec.local.v6pools[0].pool`]: `${POOL("default")}:spec.addresses[1]`,
      [`${G("default")}:spec.local.v4pools[0].subnet`]: [
        `${POOL("default")}:spec.announce`,
        "Local",
      ],
      [`${G("default")}:spec.local.v6pools[0].subnet`]: [
        `${POOL("default")}:spec.announce`,
        "Local",
      ],
      [`${G("default")}:spec.local.v4pools[0].aggregation`]: [
        `${POOL("default")}:spec.aggregation`,
        undefined,
      ],
      [`${G("default")}:spec.local.v6pools[0].aggregation`]: [
        `${POOL("default")}:spec.aggregation`,
        undefined,
      ],
    },
    unconverted: [],
  },
  {
    page: `${GROUPS} § Remote Pools`,
    yaml: group(
      "routed",
      `  remote:
    v4pools:
    - {subnet: 172.31.0.0/24, pool: 172.31.0.1-172.31.0.100, aggregation: /32}
    v6pools:
    - {subnet: "fd00:2::/112", pool: "fd00:2::1-fd00:2::64", aggregation: /128}
`,
    ),
    carried: {
      [`${G("routed")}:spec.remote.v4pools[0].pool`]: `${POOL("routed")}:spec.addresses[0]`,
      [`${G("routed")}:spec.remote.v6pools[0].pool`]: `${POOL("routed")}:spec.addresses[1]`,
      [`${G("routed")}:spec.remote.v4pools[0].subnet`]: [
        `${POOL("routed")}:spec.announce`,
        "Routed",
      ],
      [`${G("routed")}:spec.remote.v6pools[0].subnet`]: [
        `${POOL("routed")}:spec.announce`,
        "Routed",
      ],
      [`${G("routed")}:spec.remote.v4pools[0].aggregation`]: [
        `${POOL("routed")}:spec.aggregation`,
        undefined,
      ],
      [`${G("routed")}:spec.remote.v6pools[0].aggregation`]: [
        `${POOL("routed")}:spec.aggregation`,
        undefined,
      ],
    },
    unconverted: [],
  },
  {
    page: `${GROUPS} § External Pools`,
    yaml: group(
      "enterprise",
      `  external:
    provider: my-ipam
    socket: /var/run/purelb/ipam.sock
    announce: remote
`,
    ),
    carried: {},
    unconverted: [`${G("enterprise")}:spec.external`],
  },
  {
    page: `${GROUPS} § Singular vs Array Fields`,
    yaml: group(
      "default",
      `  local:
    v4pool: {subnet: 192.168.1.0/24, pool: 192.168.1.240-192.168.1.250, aggregation: default}
`,
    ),
    carried: {
      [`${G("default")}:spec.local.v4pool.pool`]: `${POOL("default")}:spec.addresses[0]`,
      [`${G("default")}:spec.local.v4pool.subnet`]: [`${POOL("default")}:spec.announce`, "Local"],
      [`${G("default")}:spec.local.v4pool.aggregation`]: [
        `${POOL("default")}:spec.aggregation`,
        undefined,
      ],
    },
    unconverted: [],
  },
  {
    page: `${GROUPS} § Multi-Pool Allocation`,
    yaml: group(
      "multi-subnet",
      `  local:
    multiPool: true
    v4pools:
    - {subnet: 192.168.1.0/24, pool: 192.168.1.240-192.168.1.250, aggregation: default}
    - {subnet: 192.168.2.0/24, pool: 192.168.2.240-192.168.2.250, aggregation: default}
`,
    ),
    carried: {
      [`${G("multi-subnet")}:spec.local.v4pools[0].pool`]: `${POOL("multi-subnet")}:spec.addresses[0]`,
      [`${G("multi-subnet")}:spec.local.v4pools[1].pool`]: `${POOL("multi-subnet")}:spec.addresses[1]`,
      [`${G("multi-subnet")}:spec.local.v4pools[0].subnet`]: [
        `${POOL("multi-subnet")}:spec.announce`,
        "Local",
      ],
      [`${G("multi-subnet")}:spec.local.v4pools[1].subnet`]: [
        `${POOL("multi-subnet")}:spec.announce`,
        "Local",
      ],
      [`${G("multi-subnet")}:spec.local.v4pools[0].aggregation`]: [
        `${POOL("multi-subnet")}:spec.aggregation`,
        undefined,
      ],
      [`${G("multi-subnet")}:spec.local.v4pools[1].aggregation`]: [
        `${POOL("multi-subnet")}:spec.aggregation`,
        undefined,
      ],
    },
    unconverted: [`${G("multi-subnet")}:spec.local.multiPool`],
  },
  {
    page: `${V1} § Local Addresses (purelb.io/v1)`,
    yaml: group(
      "default",
      `  local:
    v4pools:
    - {subnet: 192.168.254.0/24, pool: 192.168.254.230/32, aggregation: default}
    - {subnet: 192.168.254.0/24, pool: 192.168.254.231-192.168.254.240, aggregation: default}
    v6pools:
    - {subnet: "fd53:9ef0:8683::/120", pool: "fd53:9ef0:8683::-fd53:9ef0:8683::3", aggregation: default}
`,
      "v1",
    ),
    carried: {
      [`${G("default")}:spec.local.v4pools[0].pool`]: `${POOL("default")}:spec.addresses[0]`,
      [`${G("default")}:spec.local.v4pools[1].pool`]: `${POOL("default")}:spec.addresses[1]`,
      [`${G("default")}:spec.local.v6pools[0].pool`]: `${POOL("default")}:spec.addresses[2]`,
      [`${G("default")}:spec.local.v4pools[0].subnet`]: [
        `${POOL("default")}:spec.announce`,
        "Auto",
      ],
      [`${G("default")}:spec.local.v4pools[1].subnet`]: [
        `${POOL("default")}:spec.announce`,
        "Auto",
      ],
      [`${G("default")}:spec.local.v6pools[0].subnet`]: [
        `${POOL("default")}:spec.announce`,
        "Auto",
      ],
    },
    // The subnets' /24 and /120 do not fit the pools' ranges: host routes, with a note each.
    unconverted: [
      `${G("default")}:spec.local.v4pools[0].aggregation`,
      `${G("default")}:spec.local.v6pools[0].aggregation`,
      `${G("default")}:spec.local.v4pools[1].aggregation`,
    ],
  },
  {
    page: `${V1} § Aggregation (/25)`,
    yaml: group(
      "agg-sample",
      `  local:
    v4pools:
    - {subnet: 192.168.1.0/24, pool: 192.168.1.100-192.168.1.200, aggregation: /25}
`,
      "v1",
    ),
    carried: {
      [`${G("agg-sample")}:spec.local.v4pools[0].pool`]: `${POOL("agg-sample")}:spec.addresses[0]`,
      [`${G("agg-sample")}:spec.local.v4pools[0].subnet`]: [
        `${POOL("agg-sample")}:spec.announce`,
        "Auto",
      ],
    },
    // 192.168.1.0/25 reaches below .100: Herald would announce addresses outside the pool.
    unconverted: [`${G("agg-sample")}:spec.local.v4pools[0].aggregation`],
  },
  {
    page: `${V1} § Aggregation (two teams under one /24)`,
    yaml: [
      group(
        "team-1",
        "  local:\n    v4pools:\n    - {subnet: 192.168.1.0/26, pool: 192.168.1.0-192.168.1.62, aggregation: /24}\n",
        "v1",
      ),
      group(
        "team-2",
        "  local:\n    v4pools:\n    - {subnet: 192.168.1.64/26, pool: 192.168.1.64-192.168.1.126, aggregation: /24}\n",
        "v1",
      ),
    ].join("---"),
    carried: {
      [`${G("team-1")}:spec.local.v4pools[0].pool`]: `${POOL("team-1")}:spec.addresses[0]`,
      [`${G("team-1")}:spec.local.v4pools[0].subnet`]: [`${POOL("team-1")}:spec.announce`, "Auto"],
      [`${G("team-2")}:spec.local.v4pools[0].pool`]: `${POOL("team-2")}:spec.addresses[0]`,
      [`${G("team-2")}:spec.local.v4pools[0].subnet`]: [`${POOL("team-2")}:spec.announce`, "Auto"],
    },
    unconverted: [
      `${G("team-1")}:spec.local.v4pools[0].aggregation`,
      `${G("team-2")}:spec.local.v4pools[0].aggregation`,
    ],
  },
  {
    page: `${V1} § Aggregation (host routes)`,
    yaml: group(
      "highavail",
      `  local:
    v4pools:
    - {subnet: 172.30.0.144/28, pool: 172.30.0.144/28, aggregation: /32}
    v6pools:
    - {subnet: "fc00:370:155:0:8000:1::/112", pool: "fc00:370:155:0:8000:1::/112", aggregation: /128}
`,
      "v1",
    ),
    carried: {
      [`${G("highavail")}:spec.local.v4pools[0].pool`]: `${POOL("highavail")}:spec.addresses[0]`,
      [`${G("highavail")}:spec.local.v6pools[0].pool`]: `${POOL("highavail")}:spec.addresses[1]`,
      [`${G("highavail")}:spec.local.v4pools[0].subnet`]: [
        `${POOL("highavail")}:spec.announce`,
        "Auto",
      ],
      [`${G("highavail")}:spec.local.v6pools[0].subnet`]: [
        `${POOL("highavail")}:spec.announce`,
        "Auto",
      ],
      [`${G("highavail")}:spec.local.v4pools[0].aggregation`]: [
        `${POOL("highavail")}:spec.aggregation`,
        undefined,
      ],
      [`${G("highavail")}:spec.local.v6pools[0].aggregation`]: [
        `${POOL("highavail")}:spec.aggregation`,
        undefined,
      ],
    },
    unconverted: [],
  },
  {
    page: `${V1} § LBNodeAgent (purelb.io/v1)`,
    yaml: agent(
      "default",
      "  local: {extlbint: kube-lb0, localint: default, sendgarp: false}\n",
      "v1",
    ),
    carried: {
      [`${LBNA}:spec.local.extlbint`]: [`${AGENT_CONFIG}:spec.virtualInterface`, undefined],
      [`${LBNA}:spec.local.localint`]: [`${AGENT_CONFIG}:spec.localInterfaces`, undefined],
    },
    // Herald sends gratuitous ARP on every takeover: warned about, garp.count: 0 suggested.
    unconverted: [`${LBNA}:spec.local.sendgarp`],
  },
  {
    page: `${AGENT} § Complete Example`,
    yaml: agent(
      "default",
      `  local:
    localInterface: default
    dummyInterface: kube-lb0
    interfaces: [eth1]
    garpConfig:
      enabled: true
      initialDelay: 100ms
      count: 3
      interval: 500ms
      verifyBeforeSend: true
    addressConfig:
      localInterface: {validLifetime: 300, noPrefixRoute: true}
      dummyInterface: {validLifetime: 0, noPrefixRoute: false}
`,
    ),
    carried: {
      [`${LBNA}:spec.local.localInterface`]: [`${AGENT_CONFIG}:spec.localInterfaces`, undefined],
      [`${LBNA}:spec.local.dummyInterface`]: [`${AGENT_CONFIG}:spec.virtualInterface`, undefined],
      [`${LBNA}:spec.local.garpConfig.enabled`]: [
        `${AGENT_CONFIG}:spec.garp`,
        { count: 3, intervalMs: 500 },
      ],
      [`${LBNA}:spec.local.garpConfig.count`]: `${AGENT_CONFIG}:spec.garp.count`,
      [`${LBNA}:spec.local.garpConfig.interval`]: [`${AGENT_CONFIG}:spec.garp.intervalMs`, 500],
    },
    unconverted: [
      `${LBNA}:spec.local.interfaces`,
      `${LBNA}:spec.local.garpConfig.initialDelay`,
      `${LBNA}:spec.local.garpConfig.verifyBeforeSend`,
      `${LBNA}:spec.local.addressConfig`,
    ],
  },
  {
    page: `${AGENT} § Node Selection (a catch-all and a scoped override)`,
    yaml: [
      agent("default", "  local:\n    localInterface: default\n"),
      agent(
        "dual-homed",
        `  nodeSelector:
    matchLabels: {example.com/dual-homed: "true"}
  local:
    localInterface: default
    interfaces: [eth2]
`,
      ),
    ].join("---"),
    carried: {
      [`${LBNA}:spec.local.localInterface`]: [`${AGENT_CONFIG}:spec.localInterfaces`, undefined],
    },
    // Herald has one AgentConfig: the catch-all is converted, the override is not.
    unconverted: ["LBNodeAgent/dual-homed:spec"],
  },
  {
    page: `${AGENT} § Interface Selection (a regex, and additional interfaces)`,
    yaml: agent("default", "  local:\n    localInterface: ^eth[12]$\n    interfaces: [bond0]\n"),
    carried: {
      [`${LBNA}:spec.local.localInterface`]: [
        `${AGENT_CONFIG}:spec.localInterfaces`,
        ["^eth[12]$", "^bond0$"],
      ],
      [`${LBNA}:spec.local.interfaces`]: [
        `${AGENT_CONFIG}:spec.localInterfaces`,
        ["^eth[12]$", "^bond0$"],
      ],
    },
    unconverted: [],
  },
  {
    page: `${BGP} § BGPConfiguration CRD`,
    yaml: bgpConfiguration(`  - config: {neighborAddress: 192.0.2.1, peerAsn: 65001, description: Upstream BGP router}
${BOTH_FAMILIES}`),
    carried: {
      ...bgpCarried("default-192-0-2-1", ["default-192-0-2-1"]),
      [`${BGPC}:spec.neighbors[0].config.neighborAddress`]:
        "BGPPeer/default-192-0-2-1:spec.peerAddress",
      [`${BGPC}:spec.neighbors[0].config.peerAsn`]: "BGPPeer/default-192-0-2-1:spec.peerASN",
      [`${BGPC}:spec.neighbors[0].afiSafis`]: [
        "BGPPeer/default-192-0-2-1:spec.families",
        ["IPv4", "IPv6"],
      ],
    },
    // A label for people: kept as a comment above the BGPPeer.
    unconverted: [`${BGPC}:spec.neighbors[0].config.description`],
  },
  {
    page: `${BGP} § Peers on multiple subnets (with the authPasswordSecretRef and timers of the field table)`,
    yaml: bgpConfiguration(`  - config:
      neighborAddress: 192.0.2.1
      peerAsn: 65001
      description: Router, subnet a
      authPasswordSecretRef: {name: bgp-auth-secrets, key: 192.0.2.1}
    nodeSelector:
      matchLabels: {subnet: a}
    timers:
      config: {holdTime: 9, keepaliveInterval: 3}
    transport: {passiveMode: false}
${BOTH_FAMILIES}  - config: {neighborAddress: 198.51.100.1, peerAsn: 65001, description: "Router, subnet b"}
    nodeSelector:
      matchLabels: {subnet: b}
${BOTH_FAMILIES}`),
    carried: {
      ...bgpCarried("default-192-0-2-1", ["default-192-0-2-1", "default-198-51-100-1"]),
      [`${BGPC}:spec.neighbors[0].config.neighborAddress`]:
        "BGPPeer/default-192-0-2-1:spec.peerAddress",
      [`${BGPC}:spec.neighbors[0].config.peerAsn`]: "BGPPeer/default-192-0-2-1:spec.peerASN",
      [`${BGPC}:spec.neighbors[0].config.authPasswordSecretRef`]: [
        "BGPPeer/default-192-0-2-1:spec.passwordSecretRef",
        { namespace: "herald-system", name: "bgp-auth-secrets", key: "192.0.2.1" },
      ],
      [`${BGPC}:spec.neighbors[0].nodeSelector`]: "BGPPeer/default-192-0-2-1:spec.nodeSelector",
      [`${BGPC}:spec.neighbors[0].timers.config.holdTime`]:
        "BGPPeer/default-192-0-2-1:spec.holdTime",
      [`${BGPC}:spec.neighbors[0].timers.config.keepaliveInterval`]:
        "BGPPeer/default-192-0-2-1:spec.keepaliveTime",
      [`${BGPC}:spec.neighbors[0].afiSafis`]: [
        "BGPPeer/default-192-0-2-1:spec.families",
        ["IPv4", "IPv6"],
      ],
      [`${BGPC}:spec.neighbors[1].config.neighborAddress`]:
        "BGPPeer/default-198-51-100-1:spec.peerAddress",
      [`${BGPC}:spec.neighbors[1].config.peerAsn`]: "BGPPeer/default-198-51-100-1:spec.peerASN",
      [`${BGPC}:spec.neighbors[1].nodeSelector`]: "BGPPeer/default-198-51-100-1:spec.nodeSelector",
      [`${BGPC}:spec.neighbors[1].afiSafis`]: [
        "BGPPeer/default-198-51-100-1:spec.families",
        ["IPv4", "IPv6"],
      ],
    },
    defaults: [`${BGPC}:spec.neighbors[0].transport.passiveMode`],
    unconverted: [
      `${BGPC}:spec.neighbors[0].config.description`,
      `${BGPC}:spec.neighbors[1].config.description`,
    ],
  },
];
