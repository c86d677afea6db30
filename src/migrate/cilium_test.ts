import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { convert, only } from "../../test/migrate.ts";

const POOL = (name: string, spec: string, version = "v2") => `
apiVersion: cilium.io/${version}
kind: CiliumLoadBalancerIPPool
metadata: {name: ${name}, labels: {color: ${name}}}
spec: ${spec}
---`;

const L2 = (name: string, spec: string) => `
apiVersion: cilium.io/v2alpha1
kind: CiliumL2AnnouncementPolicy
metadata: {name: ${name}}
spec: ${spec}
---`;

const POLICY = (spec: string) => `
apiVersion: cilium.io/v2alpha1
kind: CiliumBGPPeeringPolicy
metadata: {name: rack0}
spec: ${spec}
---`;

describe("Cilium LB-IPAM pools", () => {
  it("blocks become entries; allowFirstLastIPs No leaves out each CIDR's ends", () => {
    const out = convert(
      "cilium",
      POOL(
        "blue",
        `{allowFirstLastIPs: "No", blocks: [{cidr: 10.0.10.0/24}, {cidr: "2004::/112"}, {cidr: 10.0.11.0/31},
          {start: 20.0.20.100, stop: 20.0.20.200}, {start: 1.2.3.4}]}`,
      ) + POOL("old", "{cidrs: [{cidr: 10.9.0.0/28}]}", "v2alpha1"),
    );
    assert.deepEqual(out.spec("AddressPool", "blue").addresses, [
      "10.0.10.1-10.0.10.254",
      "2004::1-2004::fffe",
      "10.0.11.0/31",
      "20.0.20.100-20.0.20.200",
      "1.2.3.4",
    ]);
    assert.deepEqual(out.spec("AddressPool", "old").addresses, ["10.9.0.0/28"]);
    only(
      out.notes,
      /CiliumLoadBalancerIPPool old: spec.allowFirstLastIPs: is unset: Cilium 1.16 and later/,
    );
    // Nothing says how the pools were announced.
    assert.equal(out.spec("AddressPool", "blue").announce, "Auto");
  });

  it("the service selector's namespace keys become Herald's namespace scope", () => {
    const out = convert(
      "cilium",
      POOL(
        "a",
        `{blocks: [{cidr: 10.1.0.0/28}], serviceSelector: {matchLabels: {io.kubernetes.service.namespace: tenant-a, tier: web}}}`,
      ) +
        POOL(
          "b",
          `{blocks: [{cidr: 10.2.0.0/28}], serviceSelector: {matchExpressions: [
            {key: io.kubernetes.service.namespace, operator: NotIn, values: [kube-system]},
            {key: io.kubernetes.service.name, operator: In, values: [web]}]}}`,
        ),
    );
    assert.deepEqual(out.spec("AddressPool", "a").allocation, {
      namespaces: ["tenant-a"],
      serviceSelector: { matchLabels: { tier: "web" } },
    });
    assert.deepEqual(out.spec("AddressPool", "b").allocation, {
      namespaceSelector: {
        matchExpressions: [
          { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system"] },
        ],
      },
    });
    only(
      out.warnings,
      /CiliumLoadBalancerIPPool b: spec.serviceSelector: io.kubernetes.service.name \(the service's name\) has no Herald equivalent/,
    );
  });

  it("a disabled pool, a bad block, a pool of nothing", () => {
    const out = convert(
      "cilium",
      POOL(
        "d",
        "{blocks: [{cidr: 10.3.0.0/28}, {stop: 10.3.1.9}, {cidr: 10.3.2.0/33}], disabled: true}",
      ) + POOL("e", "{blocks: [{start: nope}]}"),
    );
    assert.deepEqual(out.spec("AddressPool", "d").addresses, ["10.3.0.0/28"]);
    assert.equal(out.spec("AddressPool", "d").autoAssign, false);
    only(out.warnings, /d: spec.disabled: true: Herald has no disabled pool/);
    only(out.warnings, /d: spec.blocks\[1\]: has neither cidr nor start; left out/);
    only(out.warnings, /d: spec.blocks\[2\].cidr: "10.3.2.0\/33" has prefix length 33/);
    only(out.warnings, /CiliumLoadBalancerIPPool e: spec: holds no usable address; not converted/);
  });
});

describe("Cilium L2 announcement policies", () => {
  it("L2 only: pools are Local with the policy's nodes and interface patterns", () => {
    const out = convert(
      "cilium",
      POOL("lan", "{blocks: [{cidr: 192.168.1.0/28}]}") +
        L2(
          "l2",
          `{nodeSelector: {matchExpressions: [{key: node-role.kubernetes.io/control-plane, operator: DoesNotExist}]},
            interfaces: ["^eth[0-9]+"], loadBalancerIPs: true, externalIPs: true, serviceSelector: {matchLabels: {color: blue}}}`,
        ),
    );
    assert.deepEqual(out.spec("AddressPool", "lan"), {
      addresses: ["192.168.1.0/28"],
      announce: "Local",
      nodeSelector: {
        matchExpressions: [
          { key: "node-role.kubernetes.io/control-plane", operator: "DoesNotExist" },
        ],
      },
      interfaces: ["^eth[0-9]+"],
    });
    only(out.warnings, /spec.externalIPs: true: Herald announces the addresses it allocates/);
    only(
      out.warnings,
      /spec.serviceSelector: Herald announces every address of a pool and cannot choose services by label/,
    );
  });

  it("L2 and BGP together: pools are Auto, keep the interfaces, not the L2 node selector", () => {
    const out = convert(
      "cilium",
      POOL("lan", "{blocks: [{cidr: 192.168.1.0/28}]}") +
        L2(
          "l2",
          `{nodeSelector: {matchLabels: {edge: "true"}}, interfaces: [eth0], loadBalancerIPs: true}`,
        ) +
        POLICY(
          "{virtualRouters: [{localASN: 64512, neighbors: [{peerAddress: 10.0.0.1/32, peerASN: 64513}]}]}",
        ),
    );
    assert.deepEqual(out.spec("AddressPool", "lan"), {
      addresses: ["192.168.1.0/28"],
      announce: "Auto",
      interfaces: ["eth0"],
    });
    only(
      out.warnings,
      /CiliumL2AnnouncementPolicy l2: the input announces by L2 and by BGP; Herald's announce: Auto/,
    );
    only(out.warnings, /l2: spec.nodeSelector: limited L2 announcements only/);
  });

  it("a policy that announces no LoadBalancer address does not count", () => {
    const out = convert(
      "cilium",
      POOL("lan", "{blocks: [{cidr: 192.168.1.0/28}]}") + L2("ext", "{externalIPs: true}"),
    );
    assert.equal(out.spec("AddressPool", "lan").announce, "Auto");
    only(out.notes, /CiliumL2AnnouncementPolicy ext: spec: loadBalancerIPs is not true/);
  });
});

describe("Cilium BGP peering policy (v2alpha1)", () => {
  it("neighbors become BGPPeers with Cilium's timer defaults; the router's advertisement and path attributes", () => {
    const out = convert(
      "cilium",
      POOL("blue", "{blocks: [{cidr: 10.0.10.0/24}]}") +
        POLICY(`
  nodeSelector: {matchLabels: {rack: rack0}}
  virtualRouters:
    - localASN: 64512
      serviceSelector: {matchExpressions: [{key: somekey, operator: NotIn, values: [never-used-value]}]}
      neighbors:
        - peerAddress: 10.0.0.1/32
          peerASN: 64512
          authSecretRef: bgp-auth
          families: [{afi: ipv4, safi: unicast}]
          advertisedPathAttributes:
            - selectorType: CiliumLoadBalancerIPPool
              selector: {matchLabels: {color: blue}}
              communities: {standard: ["64512:100"], wellKnown: [no-export, planned-shut], large: ["1:2:3"]}
              localPreference: 150
            - selectorType: PodCIDR
        - peerAddress: "fd00:10::1/128"
          peerASN: 65001
          eBGPMultihopTTL: 4
          holdTimeSeconds: 9
          keepAliveTimeSeconds: 3
        - peerAddress: 10.0.0.0/24
          peerASN: 1
`),
    );
    assert.equal(out.spec("AddressPool", "blue").announce, "Routed");
    assert.deepEqual(out.spec("BGPPeer", "rack0-10-0-0-1"), {
      peerAddress: "10.0.0.1",
      peerASN: 64512,
      localASN: 64512,
      holdTime: 90,
      keepaliveTime: 30,
      passwordSecretRef: { namespace: "herald-system", name: "bgp-auth", key: "password" },
      families: ["IPv4"],
      nodeSelector: { matchLabels: { rack: "rack0" } },
    });
    assert.deepEqual(out.spec("BGPPeer", "rack0-fd00-10--1"), {
      peerAddress: "fd00:10::1",
      peerASN: 65001,
      localASN: 64512,
      holdTime: 9,
      keepaliveTime: 3,
      ebgpMultihop: 4,
      nodeSelector: { matchLabels: { rack: "rack0" } },
    });
    assert.deepEqual(out.spec("BGPAdvertisement", "rack0-64512"), {
      peers: ["rack0-10-0-0-1", "rack0-fd00-10--1"],
    });
    assert.deepEqual(out.spec("BGPAdvertisement", "rack0-64512-attributes-1"), {
      peers: ["rack0-10-0-0-1"],
      communities: ["64512:100", "no-export", "65535:0"],
      largeCommunities: ["1:2:3"],
      localPreference: 150,
      poolSelector: { matchLabels: { color: "blue" } },
    });
    only(
      out.warnings,
      /advertisedPathAttributes\[1\]: selectorType PodCIDR: sets attributes of pod CIDR routes, and Herald announces service addresses only/,
    );
    only(out.warnings, /neighbors\[2\]: peerAddress "10.0.0.0\/24" is not one IP address/);
    only(out.warnings, /neighbors\[0\].authSecretRef: .* copy Secret kube-system\/bgp-auth there/);
    only(out.notes, /serviceSelector: taken as "every service"/);
  });

  it("a router without serviceSelector advertised nothing, so no BGPAdvertisement is written", () => {
    const out = convert(
      "cilium",
      POOL("p", "{blocks: [{cidr: 10.0.10.0/24}]}") +
        POLICY(
          `{virtualRouters: [{localASN: 64512, exportPodCIDR: true, neighbors: [{peerAddress: 10.0.0.1/32, peerASN: 64513}]}]}`,
        ),
    );
    assert.ok(out.objects.has("BGPPeer/rack0-10-0-0-1"));
    assert.equal(
      [...out.objects.keys()].some((k) => k.startsWith("BGPAdvertisement/")),
      false,
    );
    only(out.notes, /virtualRouters\[0\]: advertised no LoadBalancer address/);
    only(
      out.warnings,
      /exportPodCIDR: true: Herald announces service addresses only, not pod CIDRs/,
    );
  });
});

describe("Cilium BGP control plane (v2)", () => {
  const CLUSTER = `
apiVersion: cilium.io/v2
kind: CiliumBGPClusterConfig
metadata: {name: bgp}
spec:
  nodeSelector: {matchLabels: {rack: rack1}}
  bgpInstances:
    - name: i65000
      localASN: 65000
      peers:
        - {name: tor1, peerASN: 65100, peerAddress: 10.1.0.1, peerConfigRef: {name: peer}}
        - {name: tor2, peerASN: 65000, peerAddress: "fd00:11::1", peerConfigRef: {name: missing}}
---`;
  const PEER_CONFIG = `
apiVersion: cilium.io/v2
kind: CiliumBGPPeerConfig
metadata: {name: peer}
spec:
  timers: {holdTimeSeconds: 9, keepAliveTimeSeconds: 3, connectRetryTimeSeconds: 5}
  transport: {peerPort: 1179}
  ebgpMultihop: 2
  families:
    - {afi: ipv4, safi: unicast, advertisements: {matchLabels: {advertise: bgp}}}
---`;
  const ADVERTISEMENTS = `
apiVersion: cilium.io/v2
kind: CiliumBGPAdvertisement
metadata: {name: lb, labels: {advertise: bgp}}
spec:
  advertisements:
    - advertisementType: Service
      service: {addresses: [LoadBalancerIP, ClusterIP]}
      selector: {matchLabels: {bgp: blue}}
      attributes: {communities: {standard: ["65000:99"]}, localPreference: 99}
---
apiVersion: cilium.io/v2
kind: CiliumBGPAdvertisement
metadata: {name: unused, labels: {advertise: other}}
spec:
  advertisements: [{advertisementType: Service, service: {addresses: [LoadBalancerIP]}}]
---`;

  it("peers take their CiliumBGPPeerConfig; advertisements go to the peers whose families select them", () => {
    const out = convert(
      "cilium",
      POOL("p", "{blocks: [{cidr: 10.0.10.0/24}]}") + CLUSTER + PEER_CONFIG + ADVERTISEMENTS,
    );
    assert.deepEqual(out.spec("BGPPeer", "tor1"), {
      peerAddress: "10.1.0.1",
      peerASN: 65100,
      localASN: 65000,
      port: 1179,
      holdTime: 9,
      keepaliveTime: 3,
      ebgpMultihop: 2,
      families: ["IPv4"],
      nodeSelector: { matchLabels: { rack: "rack1" } },
    });
    assert.deepEqual(out.spec("BGPPeer", "tor2"), {
      peerAddress: "fd00:11::1",
      peerASN: 65000,
      localASN: 65000,
      holdTime: 90,
      keepaliveTime: 30,
      nodeSelector: { matchLabels: { rack: "rack1" } },
    });
    assert.deepEqual(out.spec("BGPAdvertisement", "lb"), {
      peers: ["tor1"],
      communities: ["65000:99"],
      localPreference: 99,
    });
    assert.equal(out.objects.has("BGPAdvertisement/unused"), false);
    only(
      out.warnings,
      /peers\[1\].peerConfigRef: names CiliumBGPPeerConfig missing, which is not in the input/,
    );
    only(
      out.warnings,
      /CiliumBGPPeerConfig peer: spec.timers.connectRetryTimeSeconds: has no Herald equivalent/,
    );
    only(
      out.warnings,
      /CiliumBGPAdvertisement lb: spec.advertisements\[0\].service.addresses: ClusterIP/,
    );
    only(
      out.warnings,
      /CiliumBGPAdvertisement lb: spec.advertisements\[0\].selector: Herald advertises every address of a pool/,
    );
    only(
      out.notes,
      /CiliumBGPAdvertisement unused: spec: is selected by no converted peer's CiliumBGPPeerConfig/,
    );
  });

  it("node overrides have no equivalent; generated and unrelated kinds are ignored with a note", () => {
    const out = convert(
      "cilium",
      POOL("p", "{blocks: [{cidr: 10.0.10.0/24}]}") +
        `
apiVersion: cilium.io/v2
kind: CiliumBGPNodeConfigOverride
metadata: {name: node1}
spec: {bgpInstances: [{name: i, routerID: 10.0.0.1}]}
---
apiVersion: cilium.io/v2
kind: CiliumBGPNodeConfig
metadata: {name: node1}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: deny, namespace: default}
`,
    );
    only(out.warnings, /CiliumBGPNodeConfigOverride node1: spec: has no Herald equivalent/);
    only(out.notes, /CiliumBGPNodeConfig node1: is generated by Cilium/);
    only(
      out.notes,
      /CiliumNetworkPolicy default\/deny: is not load-balancer configuration; ignored/,
    );
  });
});

describe("Cilium v2 prefix aggregation", () => {
  it("goes to every pool it fits; a pool it does not fit is named in a warning", () => {
    const out = convert(
      "cilium",
      POOL("fits", "{blocks: [{cidr: 20.0.10.0/24}]}") +
        POOL("narrow", "{blocks: [{start: 20.0.20.100, stop: 20.0.20.200}]}") +
        `
apiVersion: cilium.io/v2
kind: CiliumBGPClusterConfig
metadata: {name: c}
spec:
  bgpInstances:
  - {name: i, localASN: 65000, peers: [{name: tor, peerASN: 65001, peerAddress: 10.0.0.1, peerConfigRef: {name: pc}}]}
---
apiVersion: cilium.io/v2
kind: CiliumBGPPeerConfig
metadata: {name: pc}
spec:
  families: [{afi: ipv4, safi: unicast, advertisements: {matchLabels: {advertise: bgp}}}]
---
apiVersion: cilium.io/v2
kind: CiliumBGPAdvertisement
metadata: {name: a, labels: {advertise: bgp}}
spec:
  advertisements:
  - advertisementType: Service
    service: {addresses: [LoadBalancerIP], aggregationLengthIPv4: 24}
`,
    );
    assert.deepEqual(out.spec("AddressPool", "fits").aggregation, { ipv4: 24 });
    assert.equal(out.spec("AddressPool", "narrow").aggregation, undefined);
    only(out.warnings, /aggregationLengthIPv4: \/24 blocks .* not carried to pool narrow/);
  });
});
