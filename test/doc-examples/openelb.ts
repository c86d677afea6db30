// OpenELB's pages (openelb.io, content/en/docs/getting-started/ of openelb/website):
// configuration/configure-ip-address-pools-using-eip, configure-openelb-in-bgp-mode,
// configure-openelb-for-multi-router-clusters, and usage/use-openelb-in-bgp-mode,
// use-openelb-in-layer-2-mode, use-openelb-in-vip-mode.
import type { DocExample } from "./example.ts";

const CONFIG = "openelb.io/docs/getting-started/configuration/";
const USAGE = "openelb.io/docs/getting-started/usage/";

const BGP_CONF = `
apiVersion: network.kubesphere.io/v1alpha2
kind: BgpConf
metadata: {name: default}
spec:
  as: 50000
  listenPort: 17900
  routerId: 192.168.0.2
`;

export const OPENELB_EXAMPLES: readonly DocExample[] = [
  {
    page: `${CONFIG}configure-ip-address-pools-using-eip/ § Configure an Eip Object (status is OpenELB's output)`,
    yaml: `
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata:
  name: eip-sample-pool
  annotations:
    eip.openelb.kubesphere.io/is-default-eip: "true"
spec:
  address: 192.168.0.91-192.168.0.100
  protocol: layer2
  interface: eth0
  disable: false
  priority: 1
  namespaces: [namespace-1, default]
  namespaceSelector:
    kubesphere.io/workspace: workspace
status:
  occupied: false
  usage: 1
  poolSize: 10
  used: {"192.168.0.91": default/test-svc}
  firstIP: 192.168.0.91
  lastIP: 192.168.0.100
  ready: true
  v4: true
`,
    carried: {
      "Eip/eip-sample-pool:metadata.annotations.eip.openelb.kubesphere.io/is-default-eip": [
        "AddressPool/eip-sample-pool:spec.autoAssign",
        undefined,
      ],
      "Eip/eip-sample-pool:spec.address": "AddressPool/eip-sample-pool:spec.addresses[0]",
      "Eip/eip-sample-pool:spec.protocol": ["AddressPool/eip-sample-pool:spec.announce", "Local"],
      "Eip/eip-sample-pool:spec.interface": [
        "AddressPool/eip-sample-pool:spec.interfaces",
        ["^eth0$"],
      ],
      "Eip/eip-sample-pool:spec.disable": [
        "AddressPool/eip-sample-pool:spec.autoAssign",
        undefined,
      ],
      "Eip/eip-sample-pool:spec.priority": "AddressPool/eip-sample-pool:spec.priority",
    },
    // The default Eip serves every namespace: its binding only ranked it, left out with a note.
    unconverted: [
      "Eip/eip-sample-pool:spec.namespaces",
      "Eip/eip-sample-pool:spec.namespaceSelector",
    ],
  },
  {
    page: `${CONFIG}configure-ip-address-pools-using-eip/ § the can_reach interface`,
    yaml: `
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: eip-sample-pool}
spec:
  address: 192.168.0.91-192.168.0.100
  protocol: layer2
  interface: can_reach:192.168.0.5
  namespaces: [namespace-1]
`,
    carried: {
      "Eip/eip-sample-pool:spec.address": "AddressPool/eip-sample-pool:spec.addresses[0]",
      "Eip/eip-sample-pool:spec.protocol": ["AddressPool/eip-sample-pool:spec.announce", "Local"],
      "Eip/eip-sample-pool:spec.namespaces":
        "AddressPool/eip-sample-pool:spec.allocation.namespaces",
    },
    unconverted: ["Eip/eip-sample-pool:spec.interface"],
  },
  {
    page: `${CONFIG}configure-openelb-in-bgp-mode/ § BgpConf and BgpPeer`,
    yaml: `${BGP_CONF}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: BgpPeer
metadata: {name: bgppeer-sample}
spec:
  conf:
    peerAs: 50001
    neighborAddress: 192.168.0.5
  afiSafis:
  - config:
      family: {afi: AFI_IP, safi: SAFI_UNICAST}
      enabled: true
    addPaths:
      config: {sendMax: 10}
  nodeSelector:
    matchLabels: {openelb.kubesphere.io/rack: leaf1}
`,
    carried: {
      "BgpConf/default:spec.as": "BGPPeer/bgppeer-sample:spec.localASN",
      "BgpPeer/bgppeer-sample:spec.conf.peerAs": "BGPPeer/bgppeer-sample:spec.peerASN",
      "BgpPeer/bgppeer-sample:spec.conf.neighborAddress": "BGPPeer/bgppeer-sample:spec.peerAddress",
      "BgpPeer/bgppeer-sample:spec.afiSafis[0].config": [
        "BGPPeer/bgppeer-sample:spec.families",
        undefined,
      ],
      "BgpPeer/bgppeer-sample:spec.nodeSelector": "BGPPeer/bgppeer-sample:spec.nodeSelector",
    },
    // OpenELB listened on 17900 so that Calico could keep 179; BIRD's port is fixed.
    unconverted: [
      "BgpConf/default:spec.listenPort",
      "BgpConf/default:spec.routerId",
      "BgpPeer/bgppeer-sample:spec.afiSafis[0].addPaths",
    ],
  },
  {
    page: `${CONFIG}configure-openelb-for-multi-router-clusters/ § one BgpPeer per leaf router`,
    yaml: `${BGP_CONF}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: BgpPeer
metadata: {name: leaf1}
spec:
  conf: {peerAs: 50001, neighborAddress: 192.168.0.2}
  nodeSelector:
    matchLabels: {openelb.kubesphere.io/rack: leaf1}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: BgpPeer
metadata: {name: leaf2}
spec:
  conf: {peerAs: 50001, neighborAddress: 192.168.1.1}
  nodeSelector:
    matchLabels: {openelb.kubesphere.io/rack: leaf2}
`,
    carried: {
      "BgpConf/default:spec.as": "BGPPeer/leaf1:spec.localASN",
      "BgpPeer/leaf1:spec.conf.peerAs": "BGPPeer/leaf1:spec.peerASN",
      "BgpPeer/leaf1:spec.conf.neighborAddress": "BGPPeer/leaf1:spec.peerAddress",
      "BgpPeer/leaf1:spec.nodeSelector": "BGPPeer/leaf1:spec.nodeSelector",
      "BgpPeer/leaf2:spec.conf.peerAs": "BGPPeer/leaf2:spec.peerASN",
      "BgpPeer/leaf2:spec.conf.neighborAddress": "BGPPeer/leaf2:spec.peerAddress",
      "BgpPeer/leaf2:spec.nodeSelector": "BGPPeer/leaf2:spec.nodeSelector",
    },
    unconverted: ["BgpConf/default:spec.listenPort", "BgpConf/default:spec.routerId"],
  },
  {
    page: `${USAGE}use-openelb-in-bgp-mode/ § Steps 2 to 4: BgpConf, BgpPeer, Eip`,
    yaml: `${BGP_CONF}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: BgpPeer
metadata: {name: bgp-peer}
spec:
  conf: {peerAs: 50001, neighborAddress: 192.168.0.5}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: bgp-eip}
spec:
  address: 172.22.0.2-172.22.0.10
`,
    carried: {
      "BgpConf/default:spec.as": "BGPPeer/bgp-peer:spec.localASN",
      "BgpPeer/bgp-peer:spec.conf.peerAs": "BGPPeer/bgp-peer:spec.peerASN",
      "BgpPeer/bgp-peer:spec.conf.neighborAddress": "BGPPeer/bgp-peer:spec.peerAddress",
      "Eip/bgp-eip:spec.address": "AddressPool/bgp-eip:spec.addresses[0]",
    },
    unconverted: ["BgpConf/default:spec.listenPort", "BgpConf/default:spec.routerId"],
  },
  {
    page: `${USAGE}use-openelb-in-layer-2-mode/ § Step 2: an Eip`,
    yaml: `
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: layer2-eip}
spec:
  address: 192.168.0.91-192.168.0.100
  interface: eth0
  protocol: layer2
`,
    carried: {
      "Eip/layer2-eip:spec.address": "AddressPool/layer2-eip:spec.addresses[0]",
      "Eip/layer2-eip:spec.interface": ["AddressPool/layer2-eip:spec.interfaces", ["^eth0$"]],
      "Eip/layer2-eip:spec.protocol": ["AddressPool/layer2-eip:spec.announce", "Local"],
    },
    unconverted: [],
  },
  {
    page: `${USAGE}use-openelb-in-vip-mode/ § Step 1: an Eip`,
    yaml: `
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: vip-eip}
spec:
  address: 192.168.0.91-192.168.0.100
  protocol: vip
`,
    carried: {
      "Eip/vip-eip:spec.address": "AddressPool/vip-eip:spec.addresses[0]",
    },
    // keepalived's VRRP has no Herald equivalent: one elected node holds the address instead.
    unconverted: ["Eip/vip-eip:spec.protocol"],
  },
];
