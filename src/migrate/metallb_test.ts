import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { convert, only } from "../../test/migrate.ts";

const POOL = (name: string, addresses: string, extra = "") => `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: ${name}, namespace: metallb-system}
spec:
  addresses: [${addresses}]
${extra}
---`;

const L2 = (name: string, spec: string) => `
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: ${name}, namespace: metallb-system}
spec: ${spec}
---`;

const BGP = (name: string, spec: string) => `
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: ${name}, namespace: metallb-system}
spec: ${spec}
---`;

const PEER = (name: string, spec: string) => `
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: ${name}, namespace: metallb-system}
spec: ${spec}
---`;

describe("MetalLB pools and how they are announced", () => {
  it("an L2-only pool is Local, with the advertisement's interfaces and nodes", () => {
    const out = convert(
      "metallb",
      POOL("lan", "192.168.1.240-192.168.1.250") +
        L2(
          "l2",
          `{ipAddressPools: [lan], interfaces: [eth0, bond0.100], nodeSelectors: [{matchLabels: {kubernetes.io/hostname: a}}, {matchLabels: {kubernetes.io/hostname: b}}]}`,
        ),
    );
    assert.deepEqual(out.spec("AddressPool", "lan"), {
      addresses: ["192.168.1.240-192.168.1.250"],
      announce: "Local",
      nodeSelector: {
        matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["a", "b"] }],
      },
      interfaces: ["^eth0$", "^bond0\\.100$"],
    });
    assert.deepEqual(out.warnings, []);
    const pool = out.result.objects.find((o) => o.object.kind === "AddressPool")!;
    assert.match(pool.comments.join(" "), /announce: Local, as MetalLB announced it by L2 only/);
  });

  it("a BGP-only pool is Routed and takes the advertisement's aggregation", () => {
    const out = convert(
      "metallb",
      POOL("public", "203.0.113.0/24") + BGP("transit", "{aggregationLength: 26}"),
    );
    assert.equal(out.spec("AddressPool", "public").announce, "Routed");
    assert.deepEqual(out.spec("AddressPool", "public").aggregation, { ipv4: 26 });
    // An advertisement with no pool list covers every pool, and goes to every peer.
    assert.deepEqual(out.spec("BGPAdvertisement", "transit"), {});
  });

  it("a pool with both is Auto, and the difference is a warning naming both", () => {
    const out = convert(
      "metallb",
      POOL("dmz", "198.51.100.32/28") +
        L2("l2", "{ipAddressPools: [dmz]}") +
        BGP("b", "{ipAddressPools: [dmz]}"),
    );
    assert.equal(out.spec("AddressPool", "dmz").announce, "Auto");
    only(
      out.warnings,
      /IPAddressPool metallb-system\/dmz: is announced by L2Advertisement l2 and BGPAdvertisement b; Herald's announce: Auto/,
    );
  });

  it("a pool no advertisement selects is Auto, with a warning (MetalLB announced nothing)", () => {
    const out = convert(
      "metallb",
      POOL("idle", "10.9.0.0/28", "  autoAssign: false") +
        L2("other", "{ipAddressPools: [elsewhere]}"),
    );
    assert.deepEqual(out.spec("AddressPool", "idle"), {
      addresses: ["10.9.0.0/28"],
      announce: "Auto",
      autoAssign: false,
    });
    only(out.warnings, /idle: is selected by no L2Advertisement or BGPAdvertisement/);
  });

  it("an aggregation that would reach outside a range is dropped with a warning", () => {
    const out = convert(
      "metallb",
      POOL("odd", "10.0.0.10-10.0.0.20") + BGP("agg", "{aggregationLength: 24}"),
    );
    assert.equal(out.spec("AddressPool", "odd").aggregation, undefined);
    only(
      out.warnings,
      /BGPAdvertisement metallb-system\/agg: spec.aggregationLength: \/24 blocks around addresses of 10.0.0.10-10.0.0.20 reach outside it/,
    );
  });

  it("advertisements that aggregate differently: the most specific wins, with a warning", () => {
    const out = convert(
      "metallb",
      POOL("p", "203.0.113.0/24") +
        BGP("a", "{ipAddressPools: [p], aggregationLength: 24}") +
        BGP("b", "{ipAddressPools: [p], aggregationLength: 28}"),
    );
    assert.deepEqual(out.spec("AddressPool", "p").aggregation, { ipv4: 28 });
    only(out.warnings, /aggregate IPv4 differently \(a \/24, b \/28\); .* \/28, the most specific/);
  });

  it("serviceAllocation becomes allocation; selectors that cannot merge keep the first", () => {
    const out = convert(
      "metallb",
      POOL(
        "gold",
        "10.1.0.0/28",
        `  serviceAllocation:
    priority: 5
    namespaces: [shop, Not_A_Namespace]
    namespaceSelectors: [{matchLabels: {tier: gold}}, {matchLabels: {env: prod, tier: silver}}]
    serviceSelectors: [{matchLabels: {expose: public}}]`,
      ) + L2("l2", "{}"),
    );
    const spec = out.spec("AddressPool", "gold");
    assert.equal(spec.priority, 5);
    assert.deepEqual(spec.allocation, {
      namespaces: ["shop"],
      namespaceSelector: { matchLabels: { tier: "gold" } },
      serviceSelector: { matchLabels: { expose: "public" } },
    });
    only(out.warnings, /serviceAllocation.namespaces: "Not_A_Namespace" is not a namespace name/);
    only(
      out.warnings,
      /namespaceSelectors: MetalLB admits a namespace matching any of 2 selectors; .* only the first \(tier=gold\) is kept/,
    );
  });

  it("bad addresses are left out, host bits are rounded as MetalLB did, and an empty pool is skipped", () => {
    const out = convert(
      "metallb",
      POOL("p", `"10.0.0.5/24", "10.0.0.9-10.0.0.1", "nonsense", "10.0.0.128/25"`) +
        POOL("empty", `"not-an-address"`) +
        L2("l2", "{}"),
    );
    assert.deepEqual(out.spec("AddressPool", "p").addresses, ["10.0.0.0/24"]);
    only(
      out.notes,
      /addresses\[0\]: "10.0.0.5\/24" has host bits set; the peer used the network 10.0.0.0\/24/,
    );
    only(out.warnings, /addresses\[1\]: "10.0.0.9-10.0.0.1" is reversed/);
    only(out.warnings, /addresses\[2\]: "nonsense" is not an IPv4 or IPv6 address/);
    only(out.warnings, /addresses\[3\]: "10.0.0.128\/25" overlaps "10.0.0.0\/24" of the same pool/);
    only(
      out.warnings,
      /IPAddressPool metallb-system\/empty: spec.addresses: holds no usable address; the pool is not converted/,
    );
    assert.equal(out.objects.has("AddressPool/empty"), false);
  });

  it("unknown fields and objects without a name are reported, not dropped silently", () => {
    const out = convert(
      "metallb",
      POOL("p", "10.0.0.0/28", "  autoassign: false\n  addresses2: x") +
        `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {namespace: metallb-system}
spec: {addresses: [10.0.1.0/28]}
---` +
        L2("l2", "{}"),
    );
    only(out.warnings, /spec.autoassign: is not a field this migration knows; it was left out/);
    only(out.warnings, /spec.addresses2: is not a field/);
    only(out.warnings, /IPAddressPool metallb-system\/\(no name\): metadata.name: is missing/);
  });

  it("pools of the same name in two namespaces: the second is left out (Herald's kinds are cluster-scoped)", () => {
    const out = convert(
      "metallb",
      POOL("p", "10.0.0.0/28") +
        POOL("p", "10.0.1.0/28").replace("namespace: metallb-system", "namespace: other") +
        L2("l2", "{}"),
    );
    assert.deepEqual(out.spec("AddressPool", "p").addresses, ["10.0.0.0/28"]);
    only(
      out.warnings,
      /IPAddressPool other\/p: would be written as AddressPool "p", a name already taken by IPAddressPool metallb-system\/p/,
    );
  });

  it("objects of other projects are ignored with a note; status kinds with a note", () => {
    const out = convert(
      "metallb",
      POOL("p", "10.0.0.0/28") +
        L2("l2", "{}") +
        `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
---
apiVersion: metallb.io/v1beta1
kind: ServiceL2Status
metadata: {name: l2-abc, namespace: metallb-system}
---
apiVersion: metallb.io/v1beta1
kind: OSPFInstance
metadata: {name: o, namespace: metallb-system}
`,
    );
    only(out.notes, /Service shop\/web: is not MetalLB configuration \(v1\); ignored/);
    only(
      out.notes,
      /ServiceL2Status metallb-system\/l2-abc: is status, not configuration; ignored/,
    );
    only(out.warnings, /OSPFInstance metallb-system\/o: has no Herald equivalent; not converted/);
    only(
      out.notes,
      /^Services need no rewrite: Herald reads metallb.io\/address-pool, metallb.universe.tf\/address-pool/,
    );
  });
});

describe("MetalLB BGP peers", () => {
  it("converts timers, BFD, router ID and node selectors; the password becomes a Secret", () => {
    const out = convert(
      "metallb",
      PEER(
        "tor",
        `{myASN: 64512, peerASN: 64600, peerAddress: 10.0.0.1, peerPort: 1179, holdTime: 1m30s, keepaliveTime: 30s,
          ebgpMultiHop: true, password: "pa ss", bfdProfile: fast, routerID: 10.0.0.10,
          nodeSelectors: [{matchLabels: {rack: r1}}]}`,
      ) +
        `
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: fast, namespace: metallb-system}
spec: {receiveInterval: 100, transmitInterval: 150, detectMultiplier: 4, echoMode: true, passiveMode: false}
`,
    );
    assert.deepEqual(out.spec("BGPPeer", "tor"), {
      peerAddress: "10.0.0.1",
      peerASN: 64600,
      localASN: 64512,
      port: 1179,
      holdTime: 90,
      keepaliveTime: 30,
      ebgpMultihop: 255,
      passwordSecretRef: { namespace: "herald-system", name: "tor-bgp-password", key: "password" },
      bfd: { minRxMs: 100, minTxMs: 150, multiplier: 4 },
      nodeSelector: { matchLabels: { rack: "r1" } },
      routerID: "10.0.0.10",
    });
    const secret = out.objects.get("Secret/tor-bgp-password")!;
    assert.deepEqual(
      { namespace: secret.metadata.namespace, type: secret.type, data: secret.stringData },
      { namespace: "herald-system", type: "kubernetes.io/basic-auth", data: { password: "pa ss" } },
    );
    only(
      out.warnings,
      /BGPPeer metallb-system\/tor: spec.password: written in PLAINTEXT into Secret herald-system\/tor-bgp-password/,
    );
    only(
      out.warnings,
      /BFDProfile metallb-system\/fast: spec.echoMode: true has no Herald equivalent/,
    );
    assert.equal(out.warnings.length, 2, out.warnings.join("\n"));
  });

  it("a passwordSecret must be copied to herald-system; vrf and sourceAddress have no equivalent", () => {
    const out = convert(
      "metallb",
      PEER(
        "tor",
        `{myASN: 64512, peerASN: 64512, peerAddress: "fd00::1", passwordSecret: {name: tor-pw},
          vrf: red, sourceAddress: 10.0.0.9, ebgpMultiHop: true, dualStackAddressFamily: true}`,
      ),
    );
    const spec = out.spec("BGPPeer", "tor");
    assert.deepEqual(spec.passwordSecretRef, {
      namespace: "herald-system",
      name: "tor-pw",
      key: "password",
    });
    assert.deepEqual(spec.families, ["IPv4", "IPv6"]);
    assert.equal(spec.ebgpMultihop, undefined);
    only(
      out.warnings,
      /spec.passwordSecret: Herald's agents read BGP passwords only from Secrets in herald-system: copy Secret metallb-system\/tor-pw there/,
    );
    only(
      out.warnings,
      /spec.vrf: has no Herald equivalent; the session is opened in the node's default VRF/,
    );
    only(out.warnings, /spec.sourceAddress: has no Herald equivalent/);
    only(out.notes, /spec.ebgpMultiHop: an iBGP session needs no eBGP multihop/);
  });

  it("peers Herald cannot express are skipped with the reason; bad timers are left out", () => {
    const out = convert(
      "metallb",
      PEER("dyn", "{myASN: 1, dynamicASN: external, peerAddress: 10.0.0.1}") +
        PEER(
          "internal",
          "{myASN: 7, dynamicASN: internal, peerAddress: 10.0.0.2, holdTime: 2s, keepaliveTime: banana}",
        ) +
        PEER("unnumbered", "{myASN: 1, peerASN: 2, interface: eth1}") +
        PEER(
          "nobfd",
          "{myASN: 1, peerASN: 2, peerAddress: 10.0.0.3, bfdProfile: missing, keepaliveTime: 10s, holdTime: 9s}",
        ),
    );
    only(
      out.warnings,
      /BGPPeer metallb-system\/dyn: spec: dynamicASN external has no Herald equivalent.*this peer is not converted/,
    );
    only(out.warnings, /unnumbered: spec.interface: has no Herald equivalent/);
    only(out.warnings, /unnumbered: spec: has no peerAddress.*not converted/);
    assert.deepEqual(out.spec("BGPPeer", "internal"), {
      peerAddress: "10.0.0.2",
      peerASN: 7,
      localASN: 7,
    });
    only(out.warnings, /internal: spec.holdTime: 2s is not 0 or 3 to 65535 seconds/);
    only(out.warnings, /internal: spec.keepaliveTime: "banana" is not a duration/);
    assert.deepEqual(out.spec("BGPPeer", "nobfd").bfd, {});
    assert.equal(out.spec("BGPPeer", "nobfd").keepaliveTime, undefined);
    only(
      out.warnings,
      /nobfd: spec.bfdProfile: names BFD profile "missing", which is not in the input/,
    );
    only(out.warnings, /nobfd: spec.keepaliveTime: 10s is not below the hold time \(9s\)/);
  });
});

describe("MetalLB BGP advertisements", () => {
  it("resolves Community aliases and sorts standard and large communities", () => {
    const out = convert(
      "metallb",
      POOL("p", "203.0.113.0/24") +
        BGP(
          "adv",
          `{ipAddressPools: [p], peers: [tor], localPref: 120, communities: [my-alias, "64512:300", "large:64512:1:2", "99999:1", unknown-alias]}`,
        ) +
        `
apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: c, namespace: metallb-system}
spec: {communities: [{name: my-alias, value: "65535:65282"}]}
`,
    );
    assert.deepEqual(out.spec("BGPAdvertisement", "adv"), {
      pools: ["p"],
      peers: ["tor"],
      communities: ["65535:65282", "64512:300"],
      largeCommunities: ["64512:1:2"],
      localPreference: 120,
    });
    only(out.warnings, /"99999:1": each half of a community is 0 to 65535/);
    only(
      out.warnings,
      /"unknown-alias" is not a community .*, nor an alias defined by a Community in the input/,
    );
    only(out.notes, /spec.peers: names peer "tor", which is not in the input/);
  });

  it("one pool selector stays a selector; names plus selectors become the list of pools", () => {
    const out = convert(
      "metallb",
      POOL("a", "10.0.0.0/28").replace(
        "metadata: {name: a,",
        "metadata: {labels: {x: y}, name: a,",
      ) +
        POOL("b", "10.0.1.0/28") +
        BGP("by-label", "{ipAddressPoolSelectors: [{matchLabels: {x: y}}]}") +
        BGP("mixed", "{ipAddressPools: [b], ipAddressPoolSelectors: [{matchLabels: {x: y}}]}"),
    );
    assert.deepEqual(out.spec("BGPAdvertisement", "by-label"), {
      poolSelector: { matchLabels: { x: "y" } },
    });
    assert.deepEqual(out.spec("BGPAdvertisement", "mixed"), { pools: ["a", "b"] });
    assert.deepEqual(out.objects.get("AddressPool/a")!.metadata.labels, { x: "y" });
    only(
      out.warnings,
      /mixed: spec.ipAddressPoolSelectors: .* lists the pools they select now \(a, b\)/,
    );
  });
});

describe("MetalLB's legacy ConfigMap", () => {
  const configMap = (config: string) => `
apiVersion: v1
kind: ConfigMap
metadata: {name: config, namespace: metallb-system}
data:
  config: |
${config
  .split("\n")
  .map((line) => `    ${line}`)
  .join("\n")}
`;

  it("converts peers, layer2 and bgp pools, and per-pool advertisements", () => {
    const out = convert(
      "metallb",
      configMap(`peers:
- peer-address: 10.0.0.1
  peer-asn: 64501
  my-asn: 64500
  hold-time: 120s
  node-selectors:
  - match-labels: {rack: a}
  - match-labels: {rack: b}
bgp-communities:
  quiet: 65535:65281
address-pools:
- name: lan
  protocol: layer2
  addresses: [192.168.1.240-192.168.1.250]
- name: old
  protocol: bgp
  cidr: [198.51.100.0/24]
  auto-assign: false
  bgp-advertisements:
  - aggregation-length: 25
    localpref: 50
    communities: [quiet]`),
    );
    assert.deepEqual(out.spec("AddressPool", "lan"), {
      addresses: ["192.168.1.240-192.168.1.250"],
      announce: "Local",
    });
    assert.deepEqual(out.spec("AddressPool", "old"), {
      addresses: ["198.51.100.0/24"],
      announce: "Routed",
      autoAssign: false,
      aggregation: { ipv4: 25 },
    });
    assert.deepEqual(out.spec("BGPAdvertisement", "old"), {
      pools: ["old"],
      communities: ["65535:65281"],
      localPreference: 50,
    });
    assert.deepEqual(out.spec("BGPPeer", "peer-10-0-0-1"), {
      peerAddress: "10.0.0.1",
      peerASN: 64501,
      localASN: 64500,
      holdTime: 120,
      nodeSelector: { matchExpressions: [{ key: "rack", operator: "In", values: ["a", "b"] }] },
    });
    assert.deepEqual(out.warnings, []);
    assert.equal(out.result.claimed, 1);
  });

  it("a config that is not YAML is a warning, not a crash", () => {
    const out = convert("metallb", configMap("peers: [unclosed\naddress-pools: {"));
    only(out.warnings, /ConfigMap metallb-system\/config: data.config: is not valid YAML \(/);
    assert.equal(out.result.objects.length, 0);
  });

  it("a config that is YAML but not a mapping, and a pool without protocol", () => {
    assert.match(
      only(convert("metallb", configMap("- just\n- a list")).warnings, /data.config/),
      /is not a YAML mapping of peers and address-pools/,
    );
    const out = convert(
      "metallb",
      configMap("address-pools:\n- name: p\n  addresses: [10.0.0.0/28]"),
    );
    only(
      out.warnings,
      /address-pools\[0\].protocol: is missing; the pool is converted, with no advertisement/,
    );
    assert.equal(out.spec("AddressPool", "p").announce, "Auto");
  });

  it("other ConfigMaps are not MetalLB's", () => {
    const out = convert(
      "metallb",
      `apiVersion: v1
kind: ConfigMap
metadata: {name: kube-proxy, namespace: kube-system}
data: {config: "mode: ipvs"}`,
    );
    assert.equal(out.result.claimed, 0);
  });
});

describe("MetalLB fields kept elsewhere in Herald", () => {
  it("a per-session localASN becomes the BGPPeer's localASN; on iBGP it is refused", () => {
    const out = convert(
      "metallb",
      PEER("isp", "{myASN: 65400, localASN: 65410, peerASN: 64500, peerAddress: 192.168.1.1}") +
        PEER("ibgp", "{myASN: 65400, localASN: 65410, peerASN: 65400, peerAddress: 192.168.1.2}"),
    );
    assert.equal(out.spec("BGPPeer", "isp").localASN, 65410);
    only(out.notes, /isp: spec.localASN: 65410 .*"local as 65410".*nothing changes on the router/);
    only(out.notes, /isp: spec.myASN: 65400 is not written/);
    assert.equal(out.spec("BGPPeer", "ibgp").localASN, 65400);
    only(out.warnings, /ibgp: spec.localASN: is set on an iBGP session/);
  });

  it("an aggregation with no pool of the input to carry it, and priority 0, are said so", () => {
    const out = convert(
      "metallb",
      BGP("external", "{ipAddressPools: [first-pool], aggregationLength: 24}") +
        BGP("host", "{ipAddressPools: [first-pool], aggregationLengthV6: 128}") +
        POOL("zero", "10.1.0.0/24", "  serviceAllocation: {priority: 0}"),
    );
    only(
      out.warnings,
      /external: spec.aggregationLength: Herald keeps this on the AddressPool \(aggregation.ipv4: 24\)/,
    );
    only(out.notes, /host: spec.aggregationLengthV6: \/128 is Herald's default/);
    assert.equal(out.spec("AddressPool", "zero").priority, undefined);
    only(out.notes, /zero: spec.serviceAllocation.priority: 0 is MetalLB's unset priority/);
  });
});
