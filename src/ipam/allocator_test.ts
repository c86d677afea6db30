// DESIGN §4, rule by rule, through plan(): pools and services in, addresses out.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pool, poolObject, planFor, planned, service, withHeld } from "../../test/fixtures.ts";
import { Allocator, type Outcome } from "./allocator.ts";
import { salvagePool } from "./pool.ts";
import { PoolSet } from "./pool-set.ts";
import { readService } from "./request.ts";

const lan = () => pool("lan", { addresses: ["192.168.10.240-192.168.10.250"] });
const v6 = () => pool("v6", { addresses: ["2001:db8:10::/64"] });

describe("rule 1: only LoadBalancer services of our class", () => {
  it("leaves other types and other classes without addresses", () => {
    const result = planFor(
      [lan()],
      [
        service("cluster-ip", { type: "ClusterIP" }),
        service("other-class", { loadBalancerClass: "metallb.io/metallb" }),
        service("ours", { loadBalancerClass: "herald.dev/herald" }),
        service("no-class"),
      ],
    );
    assert.deepEqual(planned(result, "cluster-ip").addresses, []);
    assert.match(planned(result, "cluster-ip").ignored!, /not LoadBalancer/);
    assert.deepEqual(planned(result, "other-class").addresses, []);
    assert.equal(planned(result, "other-class").error, null);
    assert.deepEqual(planned(result, "ours").addresses, ["192.168.10.240"]);
    assert.deepEqual(planned(result, "no-class").addresses, ["192.168.10.241"]);
  });

  it("serves only our class with classOnly", () => {
    const result = planFor(
      [lan()],
      [service("no-class"), service("ours", { loadBalancerClass: "herald.dev/herald" })],
      {},
      true,
    );
    assert.deepEqual(planned(result, "no-class").addresses, []);
    assert.deepEqual(planned(result, "ours").addresses, ["192.168.10.240"]);
  });

  it("frees the address of a service that left LoadBalancer", () => {
    const result = planFor(
      [lan()],
      [service("was-lb", { type: "ClusterIP", held: ["192.168.10.240"] }), service("waiting")],
    );
    assert.deepEqual(planned(result, "was-lb").addresses, []);
    assert.deepEqual(planned(result, "waiting").addresses, ["192.168.10.240"]);
  });
});

describe("rule 2: families", () => {
  it("follows ipFamilies for a single-stack IPv6 service", () => {
    const result = planFor([lan(), v6()], [service("web", { ipFamilies: ["IPv6"] })]);
    assert.deepEqual(planned(result, "web").addresses, ["2001:db8:10::"]);
  });

  it("serves dual-stack from one dual pool, IPv4 first whatever the primary", () => {
    const dual = pool("dual", { addresses: ["2001:db8:1::/120", "10.0.0.0/29"] });
    const result = planFor(
      [dual],
      [service("web", { ipFamilies: ["IPv6", "IPv4"], ipFamilyPolicy: "RequireDualStack" })],
    );
    assert.deepEqual(planned(result, "web").addresses, ["10.0.0.0", "2001:db8:1::"]);
    assert.equal(planned(result, "web").pool, "dual");
  });

  it("serves dual-stack from an IPv4 pool and an IPv6 pool", () => {
    const result = planFor(
      [lan(), v6()],
      [service("web", { ipFamilies: ["IPv4", "IPv6"], ipFamilyPolicy: "RequireDualStack" })],
    );
    assert.deepEqual(planned(result, "web").addresses, ["192.168.10.240", "2001:db8:10::"]);
    assert.equal(planned(result, "web").pool, "lan,v6");
  });

  it("takes the second family from the pool that gave the first, before better-ranked pools", () => {
    const dual = pool("dual", { addresses: ["10.0.0.0/29", "2001:db8:1::/120"], priority: 5 });
    const v6First = pool("v6-first", { addresses: ["2001:db8:2::/120"], priority: 1 });
    const result = planFor(
      [v6First, dual],
      [service("web", { ipFamilyPolicy: "RequireDualStack", ipFamilies: ["IPv4", "IPv6"] })],
    );
    assert.deepEqual(planned(result, "web").addresses, ["10.0.0.0", "2001:db8:1::"]);
    assert.equal(planned(result, "web").pool, "dual");
  });

  it("fails RequireDualStack without a second family and holds nothing", () => {
    const result = planFor(
      [lan()],
      [service("web", { ipFamilyPolicy: "RequireDualStack" }), service("next")],
    );
    const web = planned(result, "web");
    assert.deepEqual(web.addresses, []);
    assert.equal(web.error?.reason, "NoMatchingPool");
    assert.match(web.error!.message, /no AddressPool with IPv6 addresses admits default\/web/);
    assert.deepEqual(planned(result, "next").addresses, ["192.168.10.240"]);
  });

  it("lets PreferDualStack take what it can", () => {
    const result = planFor([lan()], [service("web", { ipFamilyPolicy: "PreferDualStack" })]);
    assert.deepEqual(planned(result, "web").addresses, ["192.168.10.240"]);
    assert.equal(planned(result, "web").error, null);
    assert.match(planned(result, "web").notes.join(), /no IPv6 address/);
  });

  it("does not add a family the API server did not give a PreferDualStack service", () => {
    const result = planFor(
      [lan(), v6()],
      [service("web", { ipFamilyPolicy: "PreferDualStack", ipFamilies: ["IPv4"] })],
    );
    assert.deepEqual(planned(result, "web").addresses, ["192.168.10.240"]);
  });

  it("limits each family to the named pools that have it", () => {
    const other = pool("other", { addresses: ["10.9.0.0/29"], priority: 0 });
    const result = planFor(
      [other, lan(), v6()],
      [
        service("web", {
          ipFamilyPolicy: "RequireDualStack",
          ipFamilies: ["IPv4", "IPv6"],
          annotations: { "herald.dev/pool": "v6, lan" },
        }),
      ],
    );
    assert.deepEqual(planned(result, "web").addresses, ["192.168.10.240", "2001:db8:10::"]);
  });
});

describe("rule 3: requested addresses", () => {
  const manual = () => pool("manual", { addresses: ["10.20.0.0/29"], autoAssign: false });

  it("gives the requested address, from an autoAssign: false pool too", () => {
    const result = planFor(
      [lan(), manual()],
      [
        service("a", { loadBalancerIP: "192.168.10.245" }),
        service("b", { annotations: { "herald.dev/addresses": "10.20.0.3" } }),
      ],
    );
    assert.deepEqual(planned(result, "a").addresses, ["192.168.10.245"]);
    assert.deepEqual(planned(result, "b").addresses, ["10.20.0.3"]);
    assert.equal(planned(result, "b").pool, "manual");
  });

  it("waits with a reason when the address is in no pool — no fallback", () => {
    const result = planFor([lan()], [service("a", { loadBalancerIP: "203.0.113.9" })]);
    assert.deepEqual(planned(result, "a").addresses, []);
    assert.deepEqual(planned(result, "a").error, {
      reason: "NoMatchingPool",
      message: "spec.loadBalancerIP asks for 203.0.113.9, which is in no AddressPool",
    });
  });

  it("waits when the pool of the address does not admit the service", () => {
    const teamPool = pool("team-a", {
      addresses: ["10.30.0.0/29"],
      allocation: { namespaces: ["team-a"] },
    });
    const result = planFor(
      [teamPool],
      [service("a", { namespace: "team-b", loadBalancerIP: "10.30.0.1" })],
    );
    assert.equal(planned(result, "team-b/a").error?.reason, "NoMatchingPool");
    assert.match(planned(result, "team-b/a").error!.message, /does not admit namespace team-b/);
  });

  it("refuses a field and an annotation that disagree, and malformed lists", () => {
    const result = planFor(
      [lan()],
      [
        service("differ", {
          loadBalancerIP: "192.168.10.241",
          annotations: { "herald.dev/addresses": "192.168.10.242" },
        }),
        service("agree", {
          loadBalancerIP: "192.168.10.243",
          annotations: { "herald.dev/addresses": "192.168.10.243" },
        }),
        service("two-v4", {
          annotations: { "herald.dev/addresses": "192.168.10.241,192.168.10.242" },
        }),
        service("junk", { annotations: { "herald.dev/addresses": "192.168.10.x" } }),
        service("v6-in-v4", {
          ipFamilies: ["IPv4"],
          annotations: { "herald.dev/addresses": "2001:db8:10::5" },
        }),
      ],
    );
    assert.equal(planned(result, "differ").error?.reason, "InvalidRequest");
    assert.match(planned(result, "differ").error!.message, /differs from herald\.dev\/addresses/);
    assert.deepEqual(planned(result, "agree").addresses, ["192.168.10.243"]);
    assert.match(planned(result, "two-v4").error!.message, /two IPv4 addresses/);
    assert.match(
      planned(result, "junk").error!.message,
      /"192\.168\.10\.x", which is not an IP address/,
    );
    assert.match(
      planned(result, "v6-in-v4").error!.message,
      /asks for an IPv6 address, but the service's families are IPv4/,
    );
    for (const name of ["differ", "two-v4", "junk", "v6-in-v4"])
      assert.deepEqual(planned(result, name).addresses, []);
  });

  it("refuses an address held by a service it may not share with", () => {
    const result = planFor(
      [lan()],
      [service("first"), service("second", { loadBalancerIP: "192.168.10.240" })],
    );
    assert.equal(planned(result, "second").error?.reason, "SharingConflict");
    assert.match(planned(result, "second").error!.message, /held by default\/first/);
  });

  it("refuses .0 and .255 from a pool that avoids them", () => {
    const buggy = pool("buggy", { addresses: ["10.0.0.0/24"], avoidBuggyIPs: true });
    const result = planFor([buggy], [service("a", { loadBalancerIP: "10.0.0.255" })]);
    assert.equal(planned(result, "a").error?.reason, "InvalidRequest");
  });

  it("honours the peers' annotations, ours first", () => {
    const result = planFor(
      [lan(), v6()],
      [
        service("metallb", { annotations: { "metallb.io/loadBalancerIPs": "192.168.10.244" } }),
        service("universe", {
          annotations: { "metallb.universe.tf/loadBalancerIPs": "192.168.10.245" },
        }),
        service("purelb", { annotations: { "purelb.io/addresses": "192.168.10.246" } }),
        service("cilium", { annotations: { "lbipam.cilium.io/ips": "192.168.10.247" } }),
        service("kube-vip", { annotations: { "kube-vip.io/loadbalancerIPs": "192.168.10.248" } }),
        service("both", {
          annotations: {
            "herald.dev/addresses": "192.168.10.249",
            "metallb.io/loadBalancerIPs": "192.168.10.250",
          },
        }),
      ],
    );
    const got = Object.fromEntries(result.services.map((s) => [s.name, s.addresses[0]]));
    assert.deepEqual(got, {
      metallb: "192.168.10.244",
      universe: "192.168.10.245",
      purelb: "192.168.10.246",
      cilium: "192.168.10.247",
      "kube-vip": "192.168.10.248",
      both: "192.168.10.249",
    });
  });
});

describe("rule 4: pool annotation", () => {
  it("picks the named pool even with autoAssign: false", () => {
    const manual = pool("manual", { addresses: ["10.20.0.0/29"], autoAssign: false });
    const result = planFor(
      [lan(), manual],
      [
        service("named", { annotations: { "herald.dev/pool": "manual" } }),
        service("metallb", { annotations: { "metallb.io/address-pool": "manual" } }),
        service("purelb", { annotations: { "purelb.io/service-group": "manual" } }),
        service("openelb", { annotations: { "eip.openelb.kubesphere.io/v1alpha2": "manual" } }),
        service("auto"),
      ],
    );
    assert.deepEqual(
      result.services.map((s) => s.addresses[0]),
      ["10.20.0.0", "10.20.0.1", "10.20.0.2", "10.20.0.3", "192.168.10.240"],
    );
  });

  it("waits when the named pool is missing, refuses the service, or is in conflict", () => {
    const restricted = pool("restricted", {
      addresses: ["10.40.0.0/29"],
      allocation: { namespaces: ["team-a"] },
    });
    const newer = pool("newer", { addresses: ["192.168.10.250-192.168.10.252"] });
    const result = planFor(
      [lan(), restricted, newer],
      [
        service("missing", { annotations: { "herald.dev/pool": "gold" } }),
        service("refused", { annotations: { "herald.dev/pool": "restricted" } }),
        service("conflicted", { annotations: { "herald.dev/pool": "newer" } }),
        service("three", { annotations: { "herald.dev/pool": "a,b,c" } }),
      ],
    );
    assert.match(
      planned(result, "missing").error!.message,
      /names pool "gold", which does not exist/,
    );
    assert.match(planned(result, "refused").error!.message, /does not admit namespace default/);
    assert.match(planned(result, "conflicted").error!.message, /is in conflict/);
    assert.equal(planned(result, "three").error?.reason, "InvalidRequest");
    for (const s of result.services) assert.deepEqual(s.addresses, []);
  });
});

describe("rule 5: which pool, which address", () => {
  it("tries matching restricted pools before unrestricted ones, then priority, then name", () => {
    const open = pool("open", { addresses: ["10.1.0.0/29"], priority: 0 });
    const teamA = pool("team-a", {
      addresses: ["10.2.0.0/29"],
      priority: 9,
      allocation: { namespaces: ["team-a"] },
    });
    const gold = pool("gold", {
      addresses: ["10.3.0.0/29"],
      allocation: { namespaceSelector: { matchLabels: { tier: "gold" } } },
    });
    const result = planFor(
      [open, teamA, gold],
      [
        service("a", { namespace: "team-a" }),
        service("b", { namespace: "rich" }),
        service("c", { namespace: "other" }),
      ],
      { rich: { tier: "gold" } },
    );
    assert.deepEqual(planned(result, "team-a/a").addresses, ["10.2.0.0"]);
    assert.deepEqual(planned(result, "rich/b").addresses, ["10.3.0.0"]);
    assert.deepEqual(planned(result, "other/c").addresses, ["10.1.0.0"]);
  });

  it("ranks by priority, unset last, ties by name", () => {
    const result = planFor(
      [
        pool("z-unset", { addresses: ["10.9.0.1"] }),
        pool("b-two", { addresses: ["10.2.0.1"], priority: 2 }),
        pool("a-two", { addresses: ["10.1.0.1"], priority: 2 }),
        pool("c-one", { addresses: ["10.3.0.1"], priority: 1 }),
      ],
      [service("s1"), service("s2"), service("s3"), service("s4"), service("s5")],
    );
    assert.deepEqual(
      result.services.map((s) => s.pool),
      ["c-one", "a-two", "b-two", "z-unset", null],
    );
    assert.equal(planned(result, "s5").error?.reason, "PoolExhausted");
  });

  it("takes the lowest free address in spec order and skips .0/.255 when asked", () => {
    const ordered = pool("ordered", { addresses: ["10.0.0.10-10.0.0.11", "10.0.0.1"] });
    const result = planFor([ordered], [service("a"), service("b"), service("c")]);
    assert.deepEqual(
      result.services.map((s) => s.addresses[0]),
      ["10.0.0.10", "10.0.0.11", "10.0.0.1"],
    );

    const buggy = pool("buggy", { addresses: ["10.0.0.254-10.0.1.1"], avoidBuggyIPs: true });
    const skipped = planFor([buggy], [service("a"), service("b"), service("c")]);
    assert.deepEqual(
      skipped.services.map((s) => s.addresses[0]),
      ["10.0.0.254", "10.0.1.1", undefined],
    );
    assert.equal(skipped.pools[0]!.capacity.ipv4, "2");
  });

  it("passes over autoAssign: false and conflicting pools, and says why none fits", () => {
    const result = planFor(
      [pool("manual", { addresses: ["10.0.0.0/30"], autoAssign: false })],
      [service("a")],
    );
    assert.match(
      planned(result, "a").error!.message,
      /no AddressPool with IPv4 addresses admits default\/a \(pool "manual" has autoAssign: false\)/,
    );

    const older = pool("older", { addresses: ["10.0.0.0/30"] }, "2026-01-01T00:00:00Z");
    const newer = pool(
      "newer",
      { addresses: ["10.0.0.2-10.0.0.9"], priority: 0 },
      "2026-03-01T00:00:00Z",
    );
    const conflict = planFor(
      [older, newer],
      [service("a"), service("b"), service("c"), service("d"), service("e")],
    );
    assert.deepEqual(
      conflict.services.map((s) => s.pool),
      ["older", "older", "older", "older", null],
    );
    const newerStatus = conflict.pools.find((p) => p.name === "newer")!;
    assert.deepEqual(
      newerStatus.conditions.map((c) => [c.type, c.status]),
      [
        ["Ready", "False"],
        ["Conflict", "True"],
      ],
    );
  });

  it("matches serviceSelector and namespaceSelector with matchExpressions", () => {
    const picky = pool("picky", {
      addresses: ["10.5.0.0/30"],
      allocation: {
        serviceSelector: {
          matchExpressions: [{ key: "expose", operator: "In", values: ["public"] }],
        },
        namespaceSelector: {
          matchExpressions: [
            { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system"] },
          ],
        },
      },
    });
    const result = planFor(
      [picky],
      [
        service("yes", { labels: { expose: "public" } }),
        service("no-label"),
        service("system", { namespace: "kube-system", labels: { expose: "public" } }),
      ],
    );
    assert.deepEqual(planned(result, "yes").addresses, ["10.5.0.0"]);
    assert.deepEqual(planned(result, "no-label").addresses, []);
    assert.deepEqual(planned(result, "kube-system/system").addresses, []);
  });

  it("says which pools are full", () => {
    const result = planFor(
      [pool("tiny", { addresses: ["10.0.0.1"] })],
      [service("a"), service("b")],
    );
    assert.deepEqual(planned(result, "b").error, {
      reason: "PoolExhausted",
      message: 'pool "tiny" has no free IPv4 address left',
    });
  });
});

describe("rule 6: sharing", () => {
  const share = (key: string, port: number, extra: object = {}) => ({
    annotations: { "herald.dev/sharing-key": key },
    ports: [{ port }],
    ...extra,
  });

  it("shares between the same key on other ports, never otherwise", () => {
    const result = planFor(
      [lan()],
      [
        service("dns-tcp", share("dns", 53, { ports: [{ protocol: "TCP", port: 53 }] })),
        service("dns-udp", share("dns", 53, { ports: [{ protocol: "UDP", port: 53 }] })),
        service("dns-again", share("dns", 53, { ports: [{ protocol: "UDP", port: 53 }] })),
        service("web", share("web", 80)),
        service("no-key", { ports: [{ port: 81 }] }),
      ],
    );
    assert.deepEqual(
      result.services.map((s) => s.addresses[0]),
      ["192.168.10.240", "192.168.10.240", "192.168.10.241", "192.168.10.242", "192.168.10.243"],
    );
    assert.equal(result.pools[0]!.allocated.ipv4, "4");
  });

  it("needs the same traffic policy, and the same pods under Local", () => {
    const result = planFor(
      [lan()],
      [
        service("a", share("k", 80, { externalTrafficPolicy: "Local", selector: { app: "x" } })),
        service("b", share("k", 81, { externalTrafficPolicy: "Local", selector: { app: "x" } })),
        service("c", share("k", 82, { externalTrafficPolicy: "Local", selector: { app: "y" } })),
        service("d", share("k", 83)),
      ],
    );
    assert.deepEqual(
      result.services.map((s) => s.addresses[0]),
      ["192.168.10.240", "192.168.10.240", "192.168.10.241", "192.168.10.242"],
    );
  });

  it("joins a requested shared address, with the peers' sharing annotations", () => {
    const result = planFor(
      [lan()],
      [
        service("a", {
          loadBalancerIP: "192.168.10.245",
          annotations: { "metallb.io/allow-shared-ip": "k" },
          ports: [{ port: 80 }],
        }),
        service("b", {
          loadBalancerIP: "192.168.10.245",
          annotations: { "lbipam.cilium.io/sharing-key": "k" },
          ports: [{ port: 443 }],
        }),
        service("c", {
          loadBalancerIP: "192.168.10.245",
          annotations: { "purelb.io/allow-shared-ip": "other" },
          ports: [{ port: 8080 }],
        }),
      ],
    );
    assert.deepEqual(planned(result, "b").addresses, ["192.168.10.245"]);
    assert.equal(planned(result, "c").error?.reason, "SharingConflict");
    assert.match(planned(result, "c").error!.message, /sharing key is "k", not "other"/);
  });
});

describe("rule 7: a valid held address never moves", () => {
  it("keeps held addresses when lower ones are free and when better pools appear", () => {
    const better = pool("better", { addresses: ["10.0.0.0/29"], priority: 0 });
    const result = planFor(
      [lan(), better],
      [service("a", { held: ["192.168.10.247"] }), service("b")],
    );
    assert.deepEqual(planned(result, "a").addresses, ["192.168.10.247"]);
    assert.deepEqual(planned(result, "b").addresses, ["10.0.0.0"]);
  });

  it("keeps an address from an autoAssign: false pool after the pool annotation goes", () => {
    const manual = pool("manual", { addresses: ["10.20.0.0/29"], autoAssign: false });
    const result = planFor([lan(), manual], [service("a", { held: ["10.20.0.4"] })]);
    assert.deepEqual(planned(result, "a").addresses, ["10.20.0.4"]);
  });

  it("moves an address the pool no longer holds, with a note", () => {
    const shrunk = pool("lan", { addresses: ["192.168.10.240-192.168.10.244"] });
    const result = planFor([shrunk], [service("a", { held: ["192.168.10.249"] })]);
    assert.deepEqual(planned(result, "a").addresses, ["192.168.10.240"]);
    assert.match(
      planned(result, "a").notes[0]!,
      /gave up 192\.168\.10\.249: it is in no AddressPool any more/,
    );
  });

  it("moves on a changed request: another pool, another address, another namespace scope", () => {
    const other = pool("other", { addresses: ["10.7.0.0/29"] });
    const scoped = pool("scoped", {
      addresses: ["10.8.0.0/29"],
      allocation: { namespaces: ["team-a"] },
    });
    const result = planFor(
      [lan(), other, scoped],
      [
        service("pool-changed", {
          held: ["192.168.10.240"],
          annotations: { "herald.dev/pool": "other" },
        }),
        service("ip-changed", { held: ["192.168.10.241"], loadBalancerIP: "192.168.10.249" }),
        service("scope-lost", { namespace: "team-b", held: ["10.8.0.1"] }),
      ],
    );
    assert.deepEqual(planned(result, "pool-changed").addresses, ["10.7.0.0"]);
    assert.deepEqual(planned(result, "ip-changed").addresses, ["192.168.10.249"]);
    assert.deepEqual(planned(result, "team-b/scope-lost").addresses, ["192.168.10.240"]);
    assert.match(planned(result, "team-b/scope-lost").notes[0]!, /does not admit namespace team-b/);
  });

  it("keeps the held address when the request is malformed, and says so", () => {
    const result = planFor(
      [lan()],
      [service("a", { held: ["192.168.10.243"], annotations: { "herald.dev/addresses": "oops" } })],
    );
    assert.deepEqual(planned(result, "a").addresses, ["192.168.10.243"]);
    assert.equal(planned(result, "a").error?.reason, "InvalidRequest");
  });

  it("lets the first of two services holding one address keep it", () => {
    const result = planFor(
      [lan()],
      [
        service("first", { held: ["192.168.10.245"] }),
        service("second", { held: ["192.168.10.245"] }),
      ],
    );
    assert.deepEqual(planned(result, "first").addresses, ["192.168.10.245"]);
    assert.deepEqual(planned(result, "second").addresses, ["192.168.10.240"]);
    assert.match(planned(result, "second").notes[0]!, /held by default\/first/);
  });

  it("keeps a held family of a RequireDualStack service that cannot get its second", () => {
    const result = planFor(
      [lan()],
      [
        service("a", {
          held: ["192.168.10.246"],
          ipFamilyPolicy: "RequireDualStack",
          ipFamilies: ["IPv4", "IPv6"],
        }),
      ],
    );
    assert.deepEqual(planned(result, "a").addresses, ["192.168.10.246"]);
    assert.equal(planned(result, "a").error?.reason, "NoMatchingPool");
  });
});

describe("rule 8: restore before allocate", () => {
  it("restores held addresses of later services before earlier ones allocate", () => {
    const result = planFor([lan()], [service("new"), service("old", { held: ["192.168.10.240"] })]);
    assert.deepEqual(planned(result, "old").addresses, ["192.168.10.240"]);
    assert.deepEqual(planned(result, "new").addresses, ["192.168.10.241"]);
  });

  it("plans the same again once the plan is written back", () => {
    const services = [
      service("a"),
      service("b", { ipFamilyPolicy: "RequireDualStack", ipFamilies: ["IPv6", "IPv4"] }),
      service("c"),
    ];
    const first = planFor([lan(), v6()], services);
    const again = planFor([lan(), v6()], withHeld(services, first));
    assert.deepEqual(
      again.services.map((s) => s.addresses),
      first.services.map((s) => s.addresses),
    );
    assert.ok(again.services.every((s) => s.notes.length === 0));
  });
});

describe("the allocator over time, as the controller uses it", () => {
  const setup = () =>
    new Allocator(new PoolSet([pool("two", { addresses: ["10.0.0.1-10.0.0.2"] }), v6()]));
  const addresses = (outcome: Outcome) => outcome.assignments.map((a) => a.address);

  it("keeps what it gave when a service is assigned again", () => {
    const allocator = setup();
    const web = readService(service("web", { ipFamilyPolicy: "RequireDualStack" }));
    const first = allocator.assign(web);
    assert.deepEqual(addresses(first), ["10.0.0.1", "2001:db8:10::"]);
    assert.deepEqual(addresses(allocator.assign(web)), ["10.0.0.1", "2001:db8:10::"]);
    assert.deepEqual(allocator.holdings("default/web"), first.assignments);
    assert.deepEqual(allocator.allocated("two"), { IPv4: 1n, IPv6: 0n });
  });

  it("frees everything a service held on release, for the next service", () => {
    const allocator = setup();
    allocator.assign(readService(service("a")));
    allocator.assign(readService(service("b")));
    const waiting = readService(service("c"));
    assert.equal(allocator.assign(waiting).failure?.reason, "PoolExhausted");
    assert.deepEqual(allocator.release("default/a"), ["10.0.0.1"]);
    assert.deepEqual(addresses(allocator.assign(waiting)), ["10.0.0.1"]);
    assert.deepEqual(allocator.release("default/nobody"), []);
  });

  it("moves a service whose request changed and frees its old address", () => {
    const allocator = setup();
    allocator.assign(readService(service("a")));
    const moved = allocator.assign(readService(service("a", { loadBalancerIP: "10.0.0.2" })));
    assert.deepEqual(addresses(moved), ["10.0.0.2"]);
    assert.match(
      moved.givenUp[0]!,
      /gave up 10\.0\.0\.1: spec\.loadBalancerIP asks for 10\.0\.0\.2/,
    );
    assert.deepEqual(addresses(allocator.assign(readService(service("b")))), ["10.0.0.1"]);
  });

  it("frees the address of a service that stops being a LoadBalancer", () => {
    const allocator = setup();
    allocator.assign(readService(service("a")));
    allocator.assign(readService(service("a", { type: "ClusterIP" })));
    assert.deepEqual(allocator.holdings("default/a"), []);
    assert.deepEqual(allocator.allocated("two"), { IPv4: 0n, IPv6: 0n });
  });

  it("keeps a shared address until its last holder leaves", () => {
    const allocator = setup();
    const share = (name: string, port: number) =>
      readService(
        service(name, { annotations: { "herald.dev/sharing-key": "k" }, ports: [{ port }] }),
      );
    assert.deepEqual(addresses(allocator.assign(share("a", 80))), ["10.0.0.1"]);
    assert.deepEqual(addresses(allocator.assign(share("b", 443))), ["10.0.0.1"]);
    allocator.release("default/a");
    assert.deepEqual(addresses(allocator.assign(readService(service("c")))), ["10.0.0.2"]);
    allocator.release("default/b");
    assert.deepEqual(addresses(allocator.assign(readService(service("d")))), ["10.0.0.1"]);
  });
});

describe("a pool whose spec became invalid", () => {
  it("keeps the addresses services hold in it and hands out nothing new", () => {
    const broken = salvagePool(
      poolObject("broken", { addresses: ["10.9.0.0/29", "10.9.1.0/33"] }),
      'spec.addresses[1] "10.9.1.0/33" has prefix length "33"',
    )!;
    assert.deepEqual(broken.spec.addresses, ["10.9.0.0/29"]);
    const result = planFor(
      [broken, lan()],
      [
        service("held", { held: ["10.9.0.3"] }),
        service("new"),
        service("asks", { loadBalancerIP: "10.9.0.5" }),
      ],
    );
    assert.deepEqual(planned(result, "held").addresses, ["10.9.0.3"]);
    assert.deepEqual(planned(result, "new").addresses, ["192.168.10.240"]);
    assert.match(
      planned(result, "asks").error!.message,
      /hands out nothing new: its spec is invalid/,
    );
    const status = result.pools.find((p) => p.name === "broken")!;
    assert.deepEqual(status.conditions[0], {
      type: "Ready",
      status: "False",
      reason: "InvalidSpec",
      message:
        'spec.addresses[1] "10.9.1.0/33" has prefix length "33"; services keep the addresses they hold, no new ones are handed out',
    });
  });

  it("cannot be salvaged when no entry parses", () => {
    assert.equal(salvagePool(poolObject("junk", { addresses: ["nope"] }), "bad"), undefined);
  });
});
