// Chaos: two controller replicas, 2,000 Services created and deleted in random order,
// pool edits, dropped watches, 410s, bursts of 500s and 429s, leaders killed. Checked
// all along: no address held by two services that may not share it, and no address
// moved unless a pool edit took it away. At the end: every service that can be served is
// served, exactly as `plan` computes from the final state.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ServiceObject } from "../api/service.ts";
import { startCluster, waitFor, type TestCluster } from "../../test/cluster.ts";
import { parseAddress } from "../ip.ts";
import { plan } from "../ipam/plan.ts";
import { compilePool } from "../ipam/pool.ts";
import { readService } from "../ipam/request.ts";
import { sharingRefusal } from "../ipam/sharing.ts";
import { mergePatch } from "../kube/patch.ts";
import { createLogger } from "../log.ts";
import { AllocationController } from "./controller.ts";

const SERVICES = Number(process.env.CHAOS_SERVICES ?? 2000);
let cluster: TestCluster;
// devkube's fault injection (dropped watches, 410s, bursts of 500s and 429s) is the point
// of this test; a real API server has no such switches.
before(async () => (cluster = await startCluster({ backend: "devkube" })));
after(() => cluster.stop());

/** A small deterministic random source, so a failing run can be replayed by its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

interface Replica {
  controller: AllocationController;
  abort: AbortController;
  done: Promise<void>;
}

describe("chaos", () => {
  it(`keeps its promises through ${SERVICES} services, pool edits, faults and leader kills`, async () => {
    const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);
    const rand = random(seed);
    const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;
    const log = createLogger("silent");
    const poolPath = "/apis/herald.dev/v1alpha1/addresspools";
    const pool = (name: string, spec: Record<string, unknown>) =>
      cluster.post(poolPath, {
        apiVersion: "herald.dev/v1alpha1",
        kind: "AddressPool",
        metadata: { name },
        spec,
      });
    const editPool = (name: string, spec: Record<string, unknown>) =>
      cluster.custom.patchClusterCustomObject(
        { group: "herald.dev", version: "v1alpha1", plural: "addresspools", name, body: { spec } },
        mergePatch,
      );

    for (const name of ["chaos-a", "chaos-b"])
      await cluster.core.createNamespace({ body: { metadata: { name } } });
    await pool("alpha", { addresses: ["10.10.0.0/23"], priority: 2 });
    await pool("beta", { addresses: ["10.20.0.0/24", "10.20.1.0/24"], priority: 1 });
    await pool("gamma", { addresses: ["10.30.0.0/24"], allocation: { namespaces: ["chaos-b"] } });
    await pool("delta", { addresses: ["2001:db8:c::/118"] });

    // Addresses a pool edit took away: services holding them may move.
    const invalidated: string[] = [];
    const invalidate = (cidrLike: string) => invalidated.push(cidrLike);
    const isInvalidated = (address: string) =>
      invalidated.some((entry) => {
        const [first, last] = entry.split("-");
        const value = parseAddress(address)!.value;
        return parseAddress(first!)!.value <= value && value <= parseAddress(last!)!.value;
      });

    const replicas: Replica[] = [];
    let nextReplica = 0;
    const startReplica = () => {
      const controller = new AllocationController({
        config: cluster.config,
        namespace: "kube-system",
        identity: `chaos-${nextReplica++}`,
        log,
        workers: 16,
        lease: { durationMs: 900, renewDeadlineMs: 600, retryPeriodMs: 150 },
        poolStatusDelayMs: 100,
      });
      const abort = new AbortController();
      replicas.push({ controller, abort, done: controller.run(abort.signal) });
    };
    startReplica();
    startReplica();

    // ---- the continuous checks ----
    const firstSeen = new Map<string, string[]>(); // uid -> addresses it held last
    const violations: string[] = [];
    const listServices = async () =>
      (
        (await (await fetch(`${cluster.url}/api/v1/services`)).json()) as {
          items: ServiceObject[];
        }
      ).items;
    const check = async () => {
      const services = await listServices();
      const holders = new Map<string, ServiceObject[]>();
      for (const service of services) {
        const ips = (service.status?.loadBalancer?.ingress ?? []).map((i) => i.ip!);
        for (const ip of ips) holders.set(ip, [...(holders.get(ip) ?? []), service]);
        const uid = service.metadata!.uid!;
        const before = firstSeen.get(uid);
        if (before && before.length > 0 && JSON.stringify(before) !== JSON.stringify(ips)) {
          const lost = before.filter((ip) => !ips.includes(ip));
          if (lost.some((ip) => !isInvalidated(ip)) && ips.length > 0) {
            violations.push(
              `${service.metadata!.namespace}/${service.metadata!.name} moved from ${before} to ${ips}`,
            );
          }
        }
        if (ips.length > 0) firstSeen.set(uid, ips);
      }
      for (const [ip, list] of holders) {
        for (let i = 0; i < list.length; i++) {
          for (let j = i + 1; j < list.length; j++) {
            const a = readService(list[i]!).sharing;
            const b = readService(list[j]!).sharing;
            if (sharingRefusal([{ service: "x", terms: a }], b)) {
              violations.push(
                `${ip} held by ${list[i]!.metadata!.name} and ${list[j]!.metadata!.name}, which may not share`,
              );
            }
          }
        }
      }
    };
    let checking = true;
    const checker = (async () => {
      while (checking) {
        await check().catch(() => undefined); // a check may meet an injected 500
        await new Promise((r) => setTimeout(r, 150));
      }
    })();

    // ---- the churn ----
    const names: { namespace: string; name: string }[] = [];
    const operations: (() => Promise<unknown>)[] = [];
    for (let i = 0; i < SERVICES; i++) {
      const namespace = rand() < 0.3 ? "chaos-b" : "chaos-a";
      const name = `s${i}`;
      names.push({ namespace, name });
      const annotations: Record<string, string> = {};
      const r = rand();
      if (r < 0.1) annotations["herald.dev/sharing-key"] = pick(["k1", "k2", "k3"]);
      else if (r < 0.15) annotations["herald.dev/pool"] = pick(["alpha", "beta"]);
      const dual = rand() < 0.1;
      operations.push(() =>
        cluster.core.createNamespacedService({
          namespace,
          body: {
            metadata: { name, annotations },
            spec: {
              type: "LoadBalancer",
              ipFamilyPolicy: dual ? "PreferDualStack" : "SingleStack",
              ports: [{ port: 1000 + Math.floor(rand() * 5), protocol: pick(["TCP", "UDP"]) }],
              selector: { app: name },
            },
          },
        }),
      );
    }
    // Deletions of a third of them, shuffled in among the creates (after their create).
    for (let i = 0; i < SERVICES / 3; i++) {
      const { namespace, name } = names[Math.floor(rand() * names.length)]!;
      const at = Math.min(
        operations.length,
        Math.floor(rand() * operations.length) + Math.floor(SERVICES / 3),
      );
      operations.splice(at, 0, () => cluster.core.deleteNamespacedService({ name, namespace }));
    }
    const chaos: (() => Promise<unknown> | void)[] = [
      () => cluster.devkube!.dropWatches(),
      () => cluster.devkube!.failNext(5, 500),
      () => cluster.devkube!.failNext(3, 429),
      () => {
        cluster.devkube!.expireResourceVersions();
        cluster.devkube!.dropWatches();
      },
      async () => {
        const leader = replicas.find((r) => r.controller.isLeader());
        if (!leader) return;
        leader.abort.abort();
        await leader.done;
        replicas.splice(replicas.indexOf(leader), 1);
        startReplica();
      },
      () => editPool("alpha", { addresses: ["10.10.0.0/23", "10.10.2.0/24"], priority: 2 }), // grow
      async () => {
        invalidate("10.20.1.0-10.20.1.255");
        await editPool("beta", { addresses: ["10.20.0.0/24"], priority: 1 }); // shrink
      },
      () => pool("epsilon", { addresses: ["10.40.0.0/24"], priority: 0 }).catch(() => undefined),
      async () => {
        invalidate("10.30.0.0-10.30.0.255");
        await cluster.custom
          .deleteClusterCustomObject({
            group: "herald.dev",
            version: "v1alpha1",
            plural: "addresspools",
            name: "gamma",
          })
          .catch(() => undefined);
      },
    ];
    const chaosEvery = Math.floor(operations.length / (chaos.length * 2));
    let done = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (operations.length > 0) {
          const operation = operations.shift()!;
          // Client requests meet injected faults too; retry as a user would.
          for (let attempt = 0; attempt < 20; attempt++) {
            try {
              await operation();
              break;
            } catch (error) {
              const code = (error as { code?: number }).code;
              if (code === 404 || code === 409) break;
              await new Promise((r) => setTimeout(r, 20));
            }
          }
          if (++done % chaosEvery === 0) await pick(chaos)();
        }
      }),
    );

    // ---- the end ----
    const converged = await waitFor(
      "every service that can be served to be served, as plan computes",
      async () => {
        const services = await listServices();
        const poolObjects = (
          (await (await fetch(`${cluster.url}${poolPath}`)).json()) as { items: unknown[] }
        ).items;
        const pools = poolObjects
          .map((object) => compilePool(object))
          .flatMap((c) => (c.problems ? [] : [c.pool]));
        const expected = plan({ pools, services, namespaces: new Map() });
        const wrong = expected.services.filter((planned, i) => {
          const actual = (services[i]!.status?.loadBalancer?.ingress ?? []).map((x) => x.ip);
          return JSON.stringify(actual) !== JSON.stringify(planned.addresses);
        });
        return wrong.length === 0 ? services.length : undefined;
      },
      60_000,
    );
    checking = false;
    await checker;
    await check();
    for (const replica of replicas) replica.abort.abort();
    await Promise.all(replicas.map((r) => r.done));
    assert.deepEqual(violations, [], `seed ${seed}`);
    assert.ok(converged > SERVICES / 2, `${converged} services left`);
  });
});
