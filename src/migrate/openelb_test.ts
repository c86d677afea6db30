import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { convert, only } from "../../test/migrate.ts";

const EIP = (name: string, spec: string, annotations = "{}") => `
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: ${name}, annotations: ${annotations}}
spec: ${spec}
---`;

const CONF = `
apiVersion: network.kubesphere.io/v1alpha2
kind: BgpConf
metadata: {name: default}
spec: {as: 50000, listenPort: 17900}
---`;

describe("OpenELB Eips", () => {
  it("protocols map to announce modes; the default Eip is the only automatic one", () => {
    const out = convert(
      "openelb",
      EIP("bgp", "{address: 172.22.0.0/24}", `{eip.openelb.kubesphere.io/is-default-eip: "true"}`) +
        EIP("l2", "{address: 192.168.0.91-192.168.0.100, protocol: layer2, interface: eth0}") +
        EIP("one", "{address: 192.168.0.120, protocol: vip, interface: eth1}"),
    );
    assert.deepEqual(out.spec("AddressPool", "bgp"), {
      addresses: ["172.22.0.0/24"],
      announce: "Routed",
    });
    assert.deepEqual(out.spec("AddressPool", "l2"), {
      addresses: ["192.168.0.91-192.168.0.100"],
      announce: "Local",
      interfaces: ["^eth0$"],
      autoAssign: false,
    });
    assert.equal(out.spec("AddressPool", "one").announce, "Local");
    only(out.warnings, /Eip one: spec.protocol: vip \(keepalived VRRP\) has no Herald equivalent/);
    const l2 = out.result.objects.find((o) => o.object.metadata.name === "l2")!;
    assert.match(l2.comments.join(" "), /OpenELB gave its addresses only to services naming it/);
  });

  it("namespace binding becomes allocation; disable, can_reach and usingKnownIPs are warnings", () => {
    const out = convert(
      "openelb",
      EIP(
        "team",
        `{address: 10.1.0.0/28, protocol: layer2, interface: "can_reach:10.1.0.254", priority: 2,
          namespaces: [team-a], namespaceSelector: {kubesphere.io/workspace: a}}`,
      ) + EIP("old", "{address: 10.2.0.0/28, disable: true, usingKnownIPs: true}"),
    );
    assert.deepEqual(out.spec("AddressPool", "team"), {
      addresses: ["10.1.0.0/28"],
      announce: "Local",
      priority: 2,
      allocation: {
        namespaces: ["team-a"],
        namespaceSelector: { matchLabels: { "kubesphere.io/workspace": "a" } },
      },
    });
    only(
      out.warnings,
      /team: spec.interface: can_reach:10.1.0.254: Herald chooses the interface whose subnet holds the address/,
    );
    assert.equal(out.spec("AddressPool", "old").autoAssign, false);
    only(out.warnings, /old: spec.disable: true: Herald has no disabled pool/);
    only(out.warnings, /old: spec.usingKnownIPs: has no Herald equivalent/);
  });

  it("a malformed or missing address is a warning and no pool", () => {
    const out = convert(
      "openelb",
      EIP("bad", "{address: 10.0.0.300-10.0.0.5}") + EIP("none", "{protocol: bgp}"),
    );
    only(
      out.warnings,
      /Eip bad: spec.address: "10.0.0.300-10.0.0.5" starts with "10.0.0.300", which is not an IP address; not converted/,
    );
    only(out.warnings, /Eip none: spec.address: is missing; not converted/);
    assert.equal(out.result.objects.length, 0);
  });
});

describe("OpenELB BGP", () => {
  it("BgpConf's ASN and each BgpPeer become BGPPeers; bgp Eips go to every peer", () => {
    const out = convert(
      "openelb",
      CONF +
        EIP("bgp", "{address: 172.22.0.0/24}") +
        EIP("lan", "{address: 192.168.0.0/28, protocol: layer2, interface: eth0}") +
        `
apiVersion: network.kubesphere.io/v1alpha2
kind: BgpPeer
metadata: {name: leaf1}
spec:
  conf: {peerAs: 50001, neighborAddress: 192.168.0.5, authPassword: md5}
  timers: {config: {holdTime: "90", keepaliveInterval: "30"}}
  transport: {remotePort: 1790}
  ebgpMultihop: {enabled: true}
  afiSafis:
    - config: {family: {afi: AFI_IP, safi: SAFI_UNICAST}, enabled: true}
      addPaths: {config: {sendMax: 10}}
    - config: {family: {afi: AFI_IP6, safi: SAFI_UNICAST}, enabled: true}
  nodeSelector: {matchLabels: {openelb.kubesphere.io/rack: leaf1}}
`,
    );
    assert.deepEqual(out.spec("BGPPeer", "leaf1"), {
      peerAddress: "192.168.0.5",
      peerASN: 50001,
      localASN: 50000,
      port: 1790,
      holdTime: 90,
      keepaliveTime: 30,
      ebgpMultihop: 255,
      passwordSecretRef: {
        namespace: "herald-system",
        name: "leaf1-bgp-password",
        key: "password",
      },
      families: ["IPv4", "IPv6"],
      nodeSelector: { matchLabels: { "openelb.kubesphere.io/rack": "leaf1" } },
    });
    assert.deepEqual(out.spec("BGPAdvertisement", "openelb"), { pools: ["bgp"] });
    only(out.warnings, /BgpConf default: spec.listenPort: has no Herald equivalent/);
    only(out.warnings, /BgpPeer leaf1: spec.afiSafis\[0\].addPaths: has no Herald equivalent/);
    only(out.warnings, /BgpPeer leaf1: spec.conf.authPassword: written in PLAINTEXT/);
  });

  it("without BgpConf default a peer has no local ASN and is skipped; other BgpConfs are ignored", () => {
    const out = convert(
      "openelb",
      CONF.replace("name: default", "name: spare") +
        `
apiVersion: network.kubesphere.io/v1alpha2
kind: BgpPeer
metadata: {name: p}
spec: {conf: {peerAs: 1, neighborAddress: 10.0.0.1}}
`,
    );
    only(out.notes, /BgpConf spare: OpenELB reads only the BgpConf named default; ignored/);
    only(
      out.warnings,
      /BgpPeer p: spec: needs BgpConf default's spec.as as its localASN.*not converted/,
    );
  });
});
