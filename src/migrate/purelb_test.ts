import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { convert, only } from "../../test/migrate.ts";

const GROUP = (name: string, spec: string, apiVersion = "purelb.io/v1") => `
apiVersion: ${apiVersion}
kind: ServiceGroup
metadata: {name: ${name}, namespace: purelb-system}
spec: ${spec}
---`;

describe("PureLB ServiceGroups", () => {
  it("the default group serves services without annotation; others only when named", () => {
    const out = convert(
      "purelb",
      GROUP(
        "default",
        `{local: {v4pools: [{subnet: 192.168.254.0/24, pool: 192.168.254.0/27, aggregation: default}],
          v6pool: {subnet: "fd53::/120", pool: "fd53::/124", aggregation: /124}}}`,
      ) +
        GROUP(
          "team",
          "{local: {v4pool: {subnet: 10.0.0.0/24, pool: 10.0.0.0/25, aggregation: /25}}}",
        ),
    );
    assert.deepEqual(out.spec("AddressPool", "default"), {
      addresses: ["192.168.254.0/27", "fd53::/124"],
      announce: "Auto",
      aggregation: { ipv6: 124 },
    });
    assert.deepEqual(out.spec("AddressPool", "team"), {
      addresses: ["10.0.0.0/25"],
      announce: "Auto",
      autoAssign: false,
      aggregation: { ipv4: 25 },
    });
    // The /27 is inside a /24 subnet: PureLB would add it to kube-lb0 as a /24, which
    // Herald cannot; the note says so without failing --strict.
    only(
      out.notes,
      /v4pools\[0\].aggregation: default \(the subnet's \/24\): \/24 blocks around addresses of 192.168.254.0\/27 reach outside it/,
    );
    assert.deepEqual(out.warnings, []);
    const team = out.result.objects.find((o) => o.object.metadata.name === "team")!;
    assert.match(team.comments.join(" "), /purelb.io\/service-group annotation names this group/);
  });

  it("the single-stack form, an explicit aggregation that does not fit, a pool outside its subnet", () => {
    const out = convert(
      "purelb",
      GROUP(
        "old",
        "{local: {subnet: 10.20.0.0/24, pool: 10.20.0.100-10.20.0.150, aggregation: /24}}",
      ) +
        GROUP("stray", "{local: {v4pool: {subnet: 10.30.0.0/24, pool: 10.31.0.0/28}}}") +
        GROUP(
          "broken",
          "{local: {v4pool: {subnet: 10.40.0.0/24, pool: 10.40.0.300, aggregation: big}}}",
        ),
    );
    assert.deepEqual(out.spec("AddressPool", "old").addresses, ["10.20.0.100-10.20.0.150"]);
    assert.equal(out.spec("AddressPool", "old").aggregation, undefined);
    only(
      out.warnings,
      /ServiceGroup purelb-system\/old: spec.local.aggregation: \/24 blocks around addresses of 10.20.0.100-10.20.0.150 reach outside it/,
    );
    only(
      out.warnings,
      /stray: spec.local.v4pool.subnet: 10.30.0.0\/24 does not contain pool 10.31.0.0\/28/,
    );
    only(
      out.warnings,
      /broken: spec.local.v4pool.pool: "10.40.0.300" is not an IPv4 or IPv6 address/,
    );
    only(out.warnings, /broken: holds no usable address; not converted/);
    assert.equal(out.objects.has("AddressPool/broken"), false);
  });

  it("Netbox has no equivalent; PureLB v2's remote pools are Routed, its local pools Local", () => {
    const out = convert(
      "purelb",
      GROUP("ipam", "{netbox: {url: https://netbox, tenant: k8s}}") +
        GROUP(
          "far",
          "{remote: {v4pool: {subnet: 172.30.0.0/24, pool: 172.30.0.0/28, aggregation: /28}}}",
          "purelb.io/v2",
        ) +
        GROUP(
          "near",
          "{local: {v4pool: {subnet: 192.168.0.0/24, pool: 192.168.0.16/28}, multiPool: true}}",
          "purelb.io/v2",
        ),
    );
    only(
      out.warnings,
      /ServiceGroup purelb-system\/ipam: spec.netbox: has no Herald equivalent; Herald has no external IPAM/,
    );
    assert.equal(out.objects.has("AddressPool/ipam"), false);
    assert.deepEqual(out.spec("AddressPool", "far"), {
      addresses: ["172.30.0.0/28"],
      announce: "Routed",
      autoAssign: false,
      aggregation: { ipv4: 28 },
    });
    assert.equal(out.spec("AddressPool", "near").announce, "Local");
    assert.equal(out.spec("AddressPool", "near").aggregation, undefined);
    only(out.warnings, /near: spec.local.multiPool: has no Herald equivalent/);
  });
});

describe("PureLB LBNodeAgent", () => {
  it("becomes the AgentConfig: routing External, the virtual interface, the local interface regex", () => {
    const out = convert(
      "purelb",
      `apiVersion: purelb.io/v1
kind: LBNodeAgent
metadata: {name: default, namespace: purelb-system}
spec: {local: {extlbint: kube-lb1, localint: "^enp[0-9]+s0$", sendgarp: true}}`,
    );
    assert.deepEqual(out.spec("AgentConfig", "default"), {
      routing: "External",
      virtualInterface: "kube-lb1",
      localInterfaces: ["^enp[0-9]+s0$"],
    });
    assert.deepEqual(out.warnings, []);
  });

  it("defaults stay defaults; sendgarp false, a bad regex and a second agent are warnings", () => {
    const agent = (name: string, local: string) => `
apiVersion: purelb.io/v1
kind: LBNodeAgent
metadata: {name: ${name}, namespace: purelb-system}
spec: {local: ${local}}
---`;
    const out = convert(
      "purelb",
      agent("default", `{extlbint: kube-lb0, localint: "(unclosed", sendgarp: false}`) +
        agent("other", "{extlbint: x}"),
    );
    assert.deepEqual(out.spec("AgentConfig", "default"), { routing: "External" });
    only(out.warnings, /spec.local.localint: "\(unclosed" is not a regular expression/);
    only(out.warnings, /spec.local.sendgarp: false: PureLB sent no gratuitous ARP; Herald sends 3/);
    only(
      out.warnings,
      /LBNodeAgent purelb-system\/other: spec: Herald has one AgentConfig for all nodes/,
    );
  });

  it("ServiceGroups alone still get an AgentConfig that keeps routing to the user's daemon", () => {
    const out = convert(
      "purelb",
      GROUP("default", "{local: {v4pool: {subnet: 10.0.0.0/24, pool: 10.0.0.0/28}}}"),
    );
    assert.deepEqual(out.spec("AgentConfig", "default"), { routing: "External" });
    only(
      out.notes,
      /^Services need no rewrite: Herald reads purelb.io\/service-group, purelb.io\/addresses, purelb.io\/allow-shared-ip/,
    );
  });
});

describe("PureLB's k8gobgp BGPConfiguration", () => {
  it("neighbors become BGPPeers; without a netlink import of kube-lb0 nothing is advertised", () => {
    const out = convert(
      "purelb",
      `
apiVersion: bgp.purelb.io/v1
kind: BGPConfiguration
metadata: {name: default, namespace: purelb-system}
spec:
  global: {asn: 65000, routerID: "\${NODE_IP}"}
  neighbors:
  - config: {neighborAddress: 192.0.2.1, peerAsn: 65001}
    transport: {passiveMode: true}
`,
    );
    assert.deepEqual(out.spec("BGPPeer", "default-192-0-2-1"), {
      peerAddress: "192.0.2.1",
      peerASN: 65001,
      localASN: 65000,
      holdTime: 90,
      keepaliveTime: 30,
      families: ["IPv4", "IPv6"],
    });
    only(out.warnings, /transport.passiveMode: true has no Herald equivalent/);
    only(out.notes, /k8gobgp imports nothing from kube-lb0/);
    assert.equal(out.objects.has("BGPAdvertisement/default"), false);
    assert.equal(out.spec("AgentConfig", "default").routing, "Bird");
  });
});
