// The allocator's invariants over random pools and services (fast-check):
// - no address is held by two services that may not share it;
// - every address lies in a pool that admits its service, in the service's families,
//   in the named pool and equal to the requested address when the request says so;
// - the plan is a pure function of its input, whatever the order of pools and namespaces;
// - writing the plan back as held addresses and planning again changes nothing;
// - a new pool or a grown pool moves no held address;
// - used over time (assign, change, release in any order), the allocator's books balance.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { ServiceObject } from "../api/service.ts";
import type { Labels } from "../api/selector.ts";
import { pool, service, withHeld, type ServiceOptions } from "../../test/fixtures.ts";
import { parseAddress } from "../ip.ts";
import { Allocator } from "./allocator.ts";
import { plan, type Plan, type PlanInput } from "./plan.ts";
import { scopeRefusal, type Pool } from "./pool.ts";
import { PoolSet } from "./pool-set.ts";
import { readService } from "./request.ts";
import { sharingRefusal } from "./sharing.ts";

const NAMESPACES = ["a", "b", "c"];
// PROPERTY_RUNS=5000 runs them harder; FC_SEED and FC_PATH (from a failure report) replay one.
const runs = {
  numRuns: Number(process.env.PROPERTY_RUNS ?? 300),
  includeErrorInReport: true,
  ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED), path: process.env.FC_PATH } : {}),
};

// Small address universes so that pools overlap and run out now and then.
const v4Address = fc
  .integer({ min: 0, max: 40 })
  .map((n) => `10.0.${n >> 4}.${n & 15 ? (n & 15) + 240 : 255}`);
const v6Address = fc.integer({ min: 0, max: 20 }).map((n) => `2001:db8::${n.toString(16)}`);
const anyAddress = fc.oneof(v4Address, v6Address, fc.constant("203.0.113.1"));

const rangeArb = fc.oneof(
  fc
    .tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 5 }))
    .map(([start, length]) => {
      const first = parseAddress("10.0.0.240")!.value;
      const at = (n: number) => {
        const value = Number(first) + (n >> 4) * 256 + (n & 15);
        return `10.0.${(value >> 8) & 255}.${value & 255}`;
      };
      return `${at(start)}-${at(Math.min(start + length, 40))}`;
    }),
  fc
    .tuple(fc.integer({ min: 0, max: 16 }), fc.integer({ min: 0, max: 4 }))
    .map(
      ([start, length]) =>
        `2001:db8::${start.toString(16)}-2001:db8::${(start + length).toString(16)}`,
    ),
);

const poolArb = (name: string) =>
  fc
    .record({
      ranges: fc.array(rangeArb, { minLength: 1, maxLength: 2 }),
      autoAssign: fc.boolean(),
      avoidBuggyIPs: fc.boolean(),
      priority: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
      scope: fc.oneof(
        fc.constant(undefined),
        fc.subarray(NAMESPACES, { minLength: 1 }).map((namespaces) => ({ namespaces })),
        fc
          .constantFrom("gold", "silver")
          .map((tier) => ({ serviceSelector: { matchLabels: { tier } } })),
        fc
          .constantFrom("gold", "silver")
          .map((tier) => ({ namespaceSelector: { matchLabels: { tier } } })),
      ),
      day: fc.integer({ min: 1, max: 3 }),
    })
    .map((p): Pool | undefined => {
      try {
        return pool(
          name,
          {
            addresses: p.ranges,
            autoAssign: p.autoAssign,
            avoidBuggyIPs: p.avoidBuggyIPs,
            ...(p.priority !== undefined ? { priority: p.priority } : {}),
            ...(p.scope ? { allocation: p.scope } : {}),
          },
          `2026-01-0${p.day}T00:00:00Z`,
        );
      } catch {
        return undefined; // a pool whose ranges overlap each other is invalid; leave it out
      }
    });

const poolsArb = fc
  .array(fc.constantFrom("p1", "p2", "p3", "p4", "p5"), { minLength: 1, maxLength: 5 })
  .chain((names) => fc.tuple(...[...new Set(names)].map(poolArb)))
  .map((pools) => pools.filter((p): p is Pool => p !== undefined));

const serviceArb = (name: string) =>
  fc
    .record({
      namespace: fc.constantFrom(...NAMESPACES),
      tier: fc.constantFrom("gold", "silver", undefined),
      type: fc.constantFrom("LoadBalancer", "LoadBalancer", "LoadBalancer", "ClusterIP"),
      loadBalancerClass: fc.constantFrom(undefined, undefined, "herald.dev/herald", "other.io/lb"),
      families: fc.constantFrom<[ServiceOptions["ipFamilies"], ServiceOptions["ipFamilyPolicy"]]>(
        [undefined, undefined],
        [["IPv4"], "SingleStack"],
        [["IPv6"], "SingleStack"],
        [["IPv4", "IPv6"], "PreferDualStack"],
        [["IPv6", "IPv4"], "RequireDualStack"],
      ),
      requested: fc.option(anyAddress, { nil: undefined, freq: 4 }),
      pools: fc.option(fc.constantFrom("p1", "p2", "p3", "p1,p2", "nope"), {
        nil: undefined,
        freq: 4,
      }),
      sharingKey: fc.option(fc.constantFrom("k1", "k2"), { nil: undefined, freq: 2 }),
      ports: fc.subarray([80, 443, 53], { minLength: 1 }),
      local: fc.boolean(),
      app: fc.constantFrom("x", "y"),
      held: fc.array(anyAddress, { maxLength: 2 }),
    })
    .map((s): ServiceObject => {
      const annotations: Record<string, string> = {};
      if (s.requested) annotations["herald.dev/addresses"] = s.requested;
      if (s.pools) annotations["herald.dev/pool"] = s.pools;
      if (s.sharingKey) annotations["herald.dev/sharing-key"] = s.sharingKey;
      return service(name, {
        namespace: s.namespace,
        labels: s.tier ? { tier: s.tier } : {},
        annotations,
        type: s.type,
        ...(s.loadBalancerClass ? { loadBalancerClass: s.loadBalancerClass } : {}),
        ...(s.families[0] ? { ipFamilies: s.families[0], ipFamilyPolicy: s.families[1]! } : {}),
        externalTrafficPolicy: s.local ? "Local" : "Cluster",
        selector: { app: s.app },
        ports: s.ports.map((port) => ({ port })),
        held: s.held,
      });
    });

const servicesArb = fc
  .integer({ min: 0, max: 25 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => serviceArb(`s${i}`))));

const namespacesArb = fc.tuple(
  ...NAMESPACES.map((name) =>
    fc
      .constantFrom<Labels>({}, { tier: "gold" }, { tier: "silver" })
      .map((labels) => [name, labels] as const),
  ),
);

const inputArb = fc
  .record({ pools: poolsArb, services: servicesArb, namespaces: namespacesArb })
  .map((x): PlanInput => ({
    pools: x.pools,
    services: x.services,
    namespaces: new Map(x.namespaces),
  }));

function holdersByAddress(input: PlanInput, result: Plan) {
  const byAddress = new Map<string, number[]>();
  result.services.forEach((s, i) => {
    for (const address of s.addresses)
      byAddress.set(address, [...(byAddress.get(address) ?? []), i]);
  });
  return byAddress;
}

describe("plan invariants", () => {
  it("never gives one address to two services that may not share it", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const result = plan(input);
        for (const [address, holders] of holdersByAddress(input, result)) {
          const terms = holders.map((i) => readService(input.services[i]!).sharing);
          for (let x = 0; x < terms.length; x++) {
            for (let y = x + 1; y < terms.length; y++) {
              const refusal = sharingRefusal([{ service: "other", terms: terms[x]! }], terms[y]!);
              assert.equal(
                refusal,
                undefined,
                `${address} held by s${holders[x]} and s${holders[y]}`,
              );
            }
          }
        }
      }),
      runs,
    );
  });

  it("puts every address in a pool that admits its service, as the service asked", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const pools = new PoolSet(input.pools);
        const result = plan(input);
        result.services.forEach((planned, i) => {
          const request = readService(input.services[i]!);
          if (request.ignored) assert.deepEqual(planned.addresses, []);
          for (const text of planned.addresses) {
            const address = parseAddress(text)!;
            const owner = pools.owner(address.family, address.value);
            assert.ok(owner, `${text} is in no pool`);
            const labels = {
              ...input.namespaces.get(request.namespace),
              "kubernetes.io/metadata.name": request.namespace,
            };
            assert.equal(scopeRefusal(owner, request.namespace, labels, request.labels), undefined);
            assert.ok(request.families.includes(address.family));
            if (!request.invalid) {
              if (request.pools)
                assert.ok(request.pools.includes(owner.name), `${text} outside named pools`);
              const wanted = request.requested[address.family];
              if (wanted) assert.equal(wanted.value, address.value);
            }
          }
        });
      }),
      runs,
    );
  });

  it("is a pure function of its input, whatever the order of pools and namespaces", () => {
    fc.assert(
      fc.property(inputArb, fc.infiniteStream(fc.nat()), (input, randoms) => {
        const shuffle = <T>(list: readonly T[]) =>
          list
            .map((item) => ({ item, key: randoms.next().value }))
            .sort((a, b) => a.key - b.key)
            .map(({ item }) => item);
        const first = plan(input);
        assert.deepEqual(plan(input), first);
        const reordered = plan({
          ...input,
          pools: shuffle(input.pools),
          namespaces: new Map(shuffle([...input.namespaces])),
        });
        assert.deepEqual(reordered.services, first.services);
        const byName = (p: Plan) => Object.fromEntries(p.pools.map((x) => [x.name, x]));
        assert.deepEqual(byName(reordered), byName(first));
      }),
      runs,
    );
  });

  it("changes nothing when the plan is written back and planned again", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const first = plan(input);
        const again = plan({ ...input, services: withHeld([...input.services], first) });
        // Addresses, and whether each service is served, must not change. Why a waiting
        // service waits may: a RequireDualStack service that failed one family gave back
        // the other, which a later service took — now both families fail, and it says so.
        assert.deepEqual(
          again.services.map((s) => [s.addresses, s.error === null]),
          first.services.map((s) => [s.addresses, s.error === null]),
        );
      }),
      runs,
    );
  });

  it("moves no held address when a pool is added or grown", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const first = plan(input);
        const held = withHeld([...input.services], first);
        const extra = pool("zz-new", {
          addresses: ["10.99.0.0/24", "2001:db8:99::/64"],
          priority: 0,
        });
        const grown = input.pools.map((p) =>
          pool(
            p.name,
            {
              ...p.spec,
              addresses: [...p.spec.addresses, `10.${50 + input.pools.indexOf(p)}.0.0/28`],
            },
            p.createdAt,
          ),
        );
        for (const pools of [[...input.pools, extra], grown]) {
          const again = plan({ ...input, pools, services: held });
          first.services.forEach((s, i) => {
            for (const address of s.addresses) {
              assert.ok(again.services[i]!.addresses.includes(address), `${address} moved`);
            }
          });
        }
      }),
      runs,
    );
  });
});

describe("allocator invariants over time", () => {
  it("keeps holdings, pool counts and sharing consistent through any assign/release sequence", () => {
    const step = fc.record({
      service: fc.integer({ min: 0, max: 7 }),
      release: fc.boolean(),
      variant: serviceArb("x"),
    });
    fc.assert(
      fc.property(poolsArb, fc.array(step, { maxLength: 60 }), (pools, steps) => {
        const set = new PoolSet(pools);
        const allocator = new Allocator(set);
        const current = new Map<string, ReturnType<typeof readService>>();
        for (const { service: n, release, variant } of steps) {
          const key = `default/s${n}`;
          if (release) {
            allocator.release(key);
            current.delete(key);
          } else {
            const object = structuredClone(variant);
            object.metadata = { ...object.metadata, name: `s${n}`, namespace: "default" };
            delete object.status;
            const request = readService(object);
            allocator.assign(request);
            current.set(key, request);
          }
          // Every address held, by whom; pairwise shareable; counted once in its pool.
          const holders = new Map<string, string[]>();
          for (const key of current.keys()) {
            for (const held of allocator.holdings(key)) {
              holders.set(held.address, [...(holders.get(held.address) ?? []), key]);
            }
          }
          for (const [address, keys] of holders) {
            for (let x = 0; x < keys.length; x++) {
              for (let y = x + 1; y < keys.length; y++) {
                const a = current.get(keys[x]!)!.sharing;
                const b = current.get(keys[y]!)!.sharing;
                assert.equal(
                  sharingRefusal([{ service: keys[x]!, terms: a }], b),
                  undefined,
                  address,
                );
              }
            }
          }
          for (const p of pools) {
            const counted = allocator.allocated(p.name);
            for (const family of ["IPv4", "IPv6"] as const) {
              const distinct = [...holders.keys()].filter((text) => {
                const address = parseAddress(text)!;
                return address.family === family && set.owner(family, address.value) === p;
              }).length;
              assert.equal(counted[family], BigInt(distinct), `${p.name} ${family}`);
            }
          }
        }
      }),
      runs,
    );
  });
});
