import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { service } from "../../test/fixtures.ts";
import type { ServiceObject } from "../api/service.ts";
import { formatAddress } from "../ip.ts";
import { readService } from "./request.ts";

describe("readService: families", () => {
  const families = (svc: ServiceObject) => readService(svc).families;

  it("follows ipFamilies, then clusterIPs, then the requested addresses, then IPv4", () => {
    assert.deepEqual(families(service("a", { ipFamilies: ["IPv6"] })), ["IPv6"]);
    const fromClusterIPs = service("b", { ipFamilyPolicy: "PreferDualStack" });
    fromClusterIPs.spec!.clusterIPs = ["fd00::10", "10.96.0.10"];
    assert.deepEqual(families(fromClusterIPs), ["IPv6", "IPv4"]);
    const fromClusterIP = service("c");
    fromClusterIP.spec!.clusterIP = "fd00::10";
    assert.deepEqual(families(fromClusterIP), ["IPv6"]);
    assert.deepEqual(families(service("d", { loadBalancerIP: "2001:db8::5" })), ["IPv6"]);
    assert.deepEqual(families(service("e")), ["IPv4"]);
  });

  it("adds the other family for dual-stack policies unless the API server chose", () => {
    assert.deepEqual(families(service("a", { ipFamilyPolicy: "RequireDualStack" })), [
      "IPv4",
      "IPv6",
    ]);
    assert.deepEqual(
      families(service("b", { ipFamilyPolicy: "RequireDualStack", ipFamilies: ["IPv6"] })),
      ["IPv6", "IPv4"],
    );
    assert.deepEqual(families(service("c", { ipFamilyPolicy: "PreferDualStack" })), [
      "IPv4",
      "IPv6",
    ]);
    assert.deepEqual(
      families(service("d", { ipFamilyPolicy: "PreferDualStack", ipFamilies: ["IPv4"] })),
      ["IPv4"],
    );
    assert.deepEqual(families(service("e", { ipFamilies: ["IPv4", "IPv6"] })), ["IPv4"]); // SingleStack
  });

  it("flags a policy or family the API would refuse", () => {
    const svc = service("a");
    (svc.spec as Record<string, unknown>).ipFamilyPolicy = "DualStack";
    assert.match(readService(svc).invalid!.message, /ipFamilyPolicy "DualStack"/);
    (svc.spec as Record<string, unknown>).ipFamilyPolicy = undefined;
    (svc.spec as Record<string, unknown>).ipFamilies = ["IPv5"];
    assert.match(readService(svc).invalid!.message, /ipFamilies lists "IPv5"/);
  });
});

describe("readService: annotations", () => {
  it("reads ours before the peers' and names the one it used", () => {
    const request = readService(
      service("a", {
        annotations: {
          "metallb.universe.tf/address-pool": "old",
          "metallb.io/address-pool": "new",
          "purelb.io/allow-shared-ip": "k",
          "kube-vip.io/loadbalancerIPs": " 10.0.0.5 , 2001:DB8::5 ",
        },
        ipFamilyPolicy: "RequireDualStack",
      }),
    );
    assert.deepEqual(request.pools, ["new"]);
    assert.equal(request.poolsBy, "metallb.io/address-pool");
    assert.equal(request.sharing.key, "k");
    assert.equal(request.requestedBy, "kube-vip.io/loadbalancerIPs");
    assert.equal(formatAddress(request.requested.IPv6!), "2001:db8::5");
    assert.equal(request.invalid, undefined);
  });

  it("treats an empty sharing key as none and refuses an empty address list", () => {
    assert.equal(
      readService(service("a", { annotations: { "herald.dev/sharing-key": " " } })).sharing.key,
      undefined,
    );
    assert.match(
      readService(service("a", { annotations: { "herald.dev/addresses": " , " } })).invalid!
        .message,
      /lists no address/,
    );
    assert.match(
      readService(service("a", { annotations: { "herald.dev/pool": "" } })).invalid!.message,
      /names no pool/,
    );
  });

  it("keeps the first held address of each family and ignores junk and hostnames", () => {
    const svc = service("a", { held: ["10.0.0.1", "junk", "10.0.0.2", "2001:db8::1"] });
    svc.status!.loadBalancer!.ingress!.push({ hostname: "lb.example.com" });
    assert.deepEqual(readService(svc).held.map(formatAddress), ["10.0.0.1", "2001:db8::1"]);
  });

  it("reads sharing terms: ports with TCP by default, policy, canonical selector", () => {
    const svc = service("a", {
      ports: [{ port: 53, protocol: "UDP" }, { port: 53 }],
      externalTrafficPolicy: "Local",
      selector: { b: "2", a: "1" },
    });
    assert.deepEqual(readService(svc).sharing, {
      key: undefined,
      ports: ["UDP/53", "TCP/53"],
      trafficPolicy: "Local",
      selector: '{"a":"1","b":"2"}',
    });
  });

  it("says why a service is not Herald's", () => {
    assert.match(readService(service("a", { type: "NodePort" })).ignored!, /type is NodePort/);
    assert.match(
      readService(service("a", { loadBalancerClass: "x/y" })).ignored!,
      /loadBalancerClass is x\/y/,
    );
    assert.match(readService(service("a"), { classOnly: true }).ignored!, /no loadBalancerClass/);
    assert.equal(readService(service("a")).ignored, undefined);
  });
});

describe("readService: wrongly typed fields", () => {
  // What a Service may hold when something other than kube-apiserver's typed decoding wrote
  // it (devkube, a broken admission plugin, an old etcd record): never a throw — one bad
  // object must not stop the controller from serving the others — and what it holds stays.
  const FIELDS = [
    "loadBalancerIP",
    "loadBalancerClass",
    "externalTrafficPolicy",
    "ipFamilies",
    "ipFamilyPolicy",
    "clusterIP",
    "clusterIPs",
    "ports",
    "selector",
    "type",
  ] as const;

  it("reads any value in any spec field, annotation or ingress without throwing", () => {
    fc.assert(
      fc.property(
        fc.record(Object.fromEntries(FIELDS.map((f) => [f, fc.anything()])), {
          requiredKeys: [],
        }),
        fc.dictionary(
          fc.constantFrom(
            "herald.dev/address",
            "herald.dev/pool",
            "herald.dev/sharing-key",
            "metallb.universe.tf/loadBalancerIPs",
          ),
          fc.anything(),
        ),
        fc.anything(),
        (spec, annotations, ingressIp) => {
          const svc = {
            metadata: { name: "odd", namespace: "default", annotations },
            spec: { type: "LoadBalancer", ...spec },
            status: { loadBalancer: { ingress: [{ ip: ingressIp }, { ip: "192.0.2.7" }] } },
          } as unknown as ServiceObject;
          const request = readService(svc);
          assert.ok(
            request.held.some((a) => formatAddress(a) === "192.0.2.7"),
            "a held address is kept",
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it("says what is wrong with a wrongly typed field", () => {
    const svc = service("five", {});
    (svc.spec as Record<string, unknown>).loadBalancerIP = 5;
    const request = readService(svc);
    assert.match(request.invalid?.message ?? "", /loadBalancerIP/);
  });
});
