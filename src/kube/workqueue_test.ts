import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { FakeClock, settle } from "../clock.ts";
import { DefaultRateLimiter, ExponentialBackoff, WorkQueue, runWorkers } from "./workqueue.ts";

function newQueue(clock = new FakeClock()): WorkQueue<string> {
  return new WorkQueue<string>({ clock });
}

describe("WorkQueue", () => {
  it("hands out each queued key once, in order, however often it was added", async () => {
    const q = newQueue();
    q.add("a");
    q.add("b");
    q.add("a");
    assert.equal(q.len, 2);
    assert.equal(await q.get(), "a");
    assert.equal(await q.get(), "b");
    assert.equal(q.len, 0);
  });

  it("processes a key added during processing once more, after done", async () => {
    const q = newQueue();
    q.add("a");
    const key = await q.get();
    q.add("a");
    q.add("a");
    // Not handed out while a worker holds it.
    assert.equal(q.len, 0);
    const next = q.get();
    let got: string | undefined;
    void next.then((k) => (got = k));
    await settle();
    assert.equal(got, undefined);
    q.done(key as string);
    assert.equal(await next, "a");
    q.done("a");
    assert.equal(q.len, 0);
  });

  it("wakes a blocked worker when a key arrives", async () => {
    const q = newQueue();
    const waiting = q.get();
    q.add("x");
    assert.equal(await waiting, "x");
  });

  it("never lets two workers hold one key, and processes every add eventually", () =>
    fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant("add" as const), key: fc.constantFrom("a", "b", "c") }),
            fc.record({ op: fc.constant("get" as const), worker: fc.nat(3) }),
            fc.record({ op: fc.constant("done" as const), worker: fc.nat(3) }),
          ),
          { maxLength: 60 },
        ),
        async (ops) => {
          const q = newQueue();
          // worker -> the key it holds, "waiting" while blocked in get(), or absent if idle
          const held = new Map<number, string | "waiting">();
          // keys added since they were last handed out: each must be handed out again
          const owed = new Set<string>();
          const violations: string[] = [];
          const start = (worker: number): void => {
            held.set(worker, "waiting");
            void q.get().then((key) => {
              if (key === undefined) return held.delete(worker);
              for (const [other, k] of held)
                if (k === key) violations.push(`worker ${other} already holds ${key}`);
              held.set(worker, key);
              owed.delete(key);
            });
          };
          for (const step of ops) {
            if (step.op === "add") {
              q.add(step.key);
              owed.add(step.key);
            } else if (step.op === "get" && !held.has(step.worker)) {
              start(step.worker);
            } else if (step.op === "done") {
              const key = held.get(step.worker);
              if (key !== undefined && key !== "waiting") {
                held.delete(step.worker);
                q.done(key);
              }
            }
            await settle();
            assert.deepEqual(violations, []);
          }
          // Let every worker finish its key and keep working until the queue is empty.
          for (let round = 0; round < 20 && (owed.size > 0 || q.len > 0); round++) {
            for (const [worker, key] of [...held]) {
              if (key === "waiting") continue;
              held.delete(worker);
              q.done(key);
            }
            await settle();
            for (let w = 0; w < 4; w++) if (!held.has(w)) start(w);
            await settle();
          }
          assert.deepEqual(violations, []);
          assert.deepEqual([...owed], []);
          q.shutDown();
          await settle();
        },
      ),
      { numRuns: 300 },
    ));

  it("delays addAfter by the clock, keeping the earliest of several delays", async () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    q.addAfter("a", 1000);
    q.addAfter("a", 500);
    q.addAfter("a", 2000);
    await clock.advance(499);
    assert.equal(q.len, 0);
    await clock.advance(1);
    assert.equal(q.len, 1);
    await clock.advance(5000);
    assert.equal(q.len, 1);
  });

  it("backs off exponentially per key and forgets on success", async () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    const readyAfter = async (key: string): Promise<number> => {
      const start = clock.now();
      q.addRateLimited(key);
      while (q.len === 0) assert.ok(await clock.step(), "a timer is pending");
      const k = await q.get();
      q.done(k as string);
      return clock.now() - start;
    };
    assert.deepEqual(
      [await readyAfter("a"), await readyAfter("a"), await readyAfter("a"), await readyAfter("a")],
      [5, 10, 20, 40],
    );
    assert.equal(q.numRequeues("a"), 4);
    assert.equal(await readyAfter("b"), 5, "keys back off independently");
    q.forget("a");
    assert.equal(q.numRequeues("a"), 0);
    assert.equal(await readyAfter("a"), 5);
  });

  it("caps the backoff at 1000 s", () => {
    const backoff = new ExponentialBackoff<string>();
    let last = 0;
    for (let i = 0; i < 40; i++) last = backoff.when("k");
    assert.equal(last, 1_000_000);
  });

  it("lets the overall bucket dominate once its burst of 100 is spent", () => {
    const clock = new FakeClock();
    const limiter = new DefaultRateLimiter<string>(clock);
    for (let i = 0; i < 100; i++) assert.equal(limiter.when(`k${i}`), 5);
    // 10 qps: the next distinct keys wait 100 ms, 200 ms, ... although their own backoff is 5 ms.
    assert.equal(limiter.when("x"), 100);
    assert.equal(limiter.when("y"), 200);
  });

  it("reports metrics", async () => {
    const clock = new FakeClock();
    const seen = {
      adds: 0,
      depth: [] as number[],
      latency: [] as number[],
      work: [] as number[],
      retries: 0,
    };
    const q = new WorkQueue<string>({
      clock,
      metrics: {
        add: () => seen.adds++,
        depth: (n) => seen.depth.push(n),
        latency: (ms) => seen.latency.push(ms),
        workDuration: (ms) => seen.work.push(ms),
        retry: () => seen.retries++,
      },
    });
    q.add("a");
    q.add("a");
    await clock.advance(30);
    const k = (await q.get()) as string;
    await clock.advance(7);
    q.done(k);
    q.addRateLimited("a");
    assert.equal(seen.adds, 1);
    assert.deepEqual(seen.depth, [1, 0]);
    assert.deepEqual(seen.latency, [30]);
    assert.deepEqual(seen.work, [7]);
    assert.equal(seen.retries, 1);
  });

  describe("shutdown", () => {
    it("releases blocked workers and ignores later adds", async () => {
      const clock = new FakeClock();
      const q = newQueue(clock);
      const blocked = q.get();
      q.addAfter("later", 100);
      q.shutDown();
      assert.equal(await blocked, undefined);
      q.add("x");
      assert.equal(await q.get(), undefined);
      assert.equal(clock.pending, 0, "delayed adds are cancelled");
    });

    it("still hands out keys queued before shutdown", async () => {
      const q = newQueue();
      q.add("a");
      q.shutDown();
      assert.equal(await q.get(), "a");
      assert.equal(await q.get(), undefined);
    });

    it("with drain, waits for keys being processed", async () => {
      const q = newQueue();
      q.add("a");
      const key = (await q.get()) as string;
      let drained = false;
      const drain = q.shutDownWithDrain().then(() => (drained = true));
      await settle();
      assert.equal(drained, false);
      q.done(key);
      await drain;
      assert.equal(drained, true);
    });
  });
});

describe("runWorkers", () => {
  it("retries failures with backoff, forgets successes, and stops with the queue", async () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    const attempts: [string, number][] = [];
    let failuresLeft = 2;
    const running = runWorkers(q, 2, async (key) => {
      attempts.push([key, clock.now()]);
      if (key === "bad" && failuresLeft-- > 0) throw new Error("boom");
    });
    const t0 = clock.now();
    q.add("bad");
    q.add("good");
    await clock.advance(1000);
    assert.deepEqual(
      attempts.map(([k, t]) => [k, t - t0]),
      [
        ["bad", 0],
        ["good", 0],
        ["bad", 5],
        ["bad", 15],
      ],
    );
    assert.equal(q.numRequeues("bad"), 0, "success forgets the backoff");
    q.shutDown();
    await running;
  });

  it("drops a key after maxRetries, with a log line", async () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    const logged: string[] = [];
    const log = { warn: () => {}, error: (_o: object, msg: string) => logged.push(msg) };
    let calls = 0;
    const running = runWorkers(
      q,
      1,
      async () => {
        calls++;
        throw new Error("always");
      },
      { maxRetries: 3, log: log as never },
    );
    q.add("k");
    await clock.advance(10_000);
    assert.equal(calls, 4, "the first try and three retries");
    assert.deepEqual(logged, ["dropping key after too many failures"]);
    assert.equal(clock.pending, 0);
    q.shutDown();
    await running;
  });

  it("never runs one key on two workers at once", async () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    const active = new Set<string>();
    let maxParallel = 0;
    let runs = 0;
    const running = runWorkers(q, 4, async (key) => {
      assert.ok(!active.has(key));
      active.add(key);
      maxParallel = Math.max(maxParallel, active.size);
      runs++;
      await clock.sleep(10);
      active.delete(key);
    });
    for (let i = 0; i < 5; i++) {
      q.add("a");
      q.add("b");
      await clock.advance(3);
    }
    await clock.advance(100);
    assert.equal(maxParallel, 2);
    assert.ok(runs >= 4 && runs <= 6, `runs=${runs}`);
    await q.shutDownWithDrain();
    await running;
  });
});
