import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { FakeClock, type Clock, type TimerHandle } from "../clock.ts";
import {
  LeaderElector,
  LeaseConflict,
  LeaseNotFound,
  type Lease,
  type LeaderElectorOptions,
  type LeaseStore,
} from "./leader.ts";

/**
 * One Lease object with the API server's optimistic concurrency. Each candidate reaches
 * it through its own link, which a test can cut or make slow or lossy.
 */
class LeaseServer {
  lease: Lease | undefined;
  #version = 0;

  read(): Lease | undefined {
    return this.lease === undefined ? undefined : { ...this.lease };
  }

  create(lease: Lease): Lease {
    if (this.lease !== undefined) throw new LeaseConflict("exists");
    this.lease = { ...lease, resourceVersion: String(++this.#version) };
    return { ...this.lease };
  }

  update(lease: Lease): Lease {
    if (this.lease === undefined) throw new LeaseNotFound("gone");
    if (lease.resourceVersion !== this.lease.resourceVersion) throw new LeaseConflict("stale");
    this.lease = { ...lease, resourceVersion: String(++this.#version) };
    return { ...this.lease };
  }
}

type LinkMode =
  | { kind: "up" }
  | { kind: "down" } // requests fail without reaching the server
  | { kind: "lossy" } // requests take effect but their responses are lost
  | { kind: "slow"; applyMs: number; replyMs: number }; // late on the way there and back

class Link implements LeaseStore {
  mode: LinkMode = { kind: "up" };
  readonly #server: LeaseServer;
  readonly #clock: Clock;

  constructor(server: LeaseServer, clock: Clock) {
    this.#server = server;
    this.#clock = clock;
  }

  get(): Promise<Lease | undefined> {
    return this.#call(() => this.#server.read());
  }

  create(lease: Lease): Promise<Lease> {
    return this.#call(() => this.#server.create(lease));
  }

  update(lease: Lease): Promise<Lease> {
    return this.#call(() => this.#server.update(lease));
  }

  async #call<T>(op: () => T): Promise<T> {
    const mode = this.mode;
    if (mode.kind === "down") throw new Error("connection refused");
    if (mode.kind === "slow") await this.#clock.sleep(mode.applyMs);
    const result = op();
    if (mode.kind === "lossy") throw new Error("connection reset");
    if (mode.kind === "slow") await this.#clock.sleep(mode.replyMs);
    return result;
  }
}

/** A clock running at the same rate as another but set to a different time. */
class OffsetClock implements Clock {
  readonly #base: Clock;
  readonly #offset: number;

  constructor(base: Clock, offset: number) {
    this.#base = base;
    this.#offset = offset;
  }

  now(): number {
    return this.#base.now() + this.#offset;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.#base.setTimeout(fn, ms);
  }

  clearTimeout(handle: TimerHandle): void {
    this.#base.clearTimeout(handle);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    return this.#base.sleep(ms, signal);
  }
}

function elector(
  clock: Clock,
  link: LeaseStore,
  identity: string,
  extra: Partial<LeaderElectorOptions> = {},
): LeaderElector {
  return new LeaderElector({ identity, store: link, clock, random: () => 0, ...extra });
}

describe("LeaderElector", () => {
  it("lets a single candidate lead and keep renewing", async () => {
    const clock = new FakeClock();
    const server = new LeaseServer();
    const events: string[] = [];
    let leadingSignal: AbortSignal | undefined;
    const a = elector(clock, new Link(server, clock), "a", {
      onStartedLeading: (signal) => {
        leadingSignal = signal;
        events.push("started");
      },
      onStoppedLeading: () => events.push("stopped"),
      onNewLeader: (id) => events.push(`leader ${id}`),
    });
    const running = a.run();
    await clock.advance(0);
    assert.equal(a.isLeader(), true);
    assert.deepEqual(events, ["leader a", "started"]);
    assert.equal(server.lease?.holderIdentity, "a");
    assert.equal(server.lease?.leaseDurationSeconds, 15);
    assert.equal(server.lease?.leaseTransitions, 0);
    const acquired = server.lease?.acquireTime;

    await clock.advance(60_000);
    assert.equal(a.isLeader(), true);
    assert.equal(server.lease?.renewTime, clock.now(), "renewed every 2 s, the last just now");
    assert.equal(server.lease?.acquireTime, acquired);
    assert.equal(server.lease?.resourceVersion, "31");

    await a.stop();
    await running;
    assert.equal(a.isLeader(), false);
    assert.equal(leadingSignal?.aborted, true);
    assert.deepEqual(events, ["leader a", "started", "stopped"]);
    assert.equal(server.lease?.holderIdentity, "", "released");
    assert.equal(server.lease?.leaseDurationSeconds, 1);
    assert.equal(clock.pending, 0, "no timers left behind");
  });

  it("stops leading exactly at the renew deadline when renewals fail", async () => {
    const clock = new FakeClock();
    const server = new LeaseServer();
    const link = new Link(server, clock);
    let stoppedAt: number | undefined;
    const a = elector(clock, link, "a", { onStoppedLeading: () => (stoppedAt = clock.now()) });
    const running = a.run();
    await clock.advance(4_000);
    const lastRenewStart = server.lease?.renewTime as number;
    // A hanging request must not extend leadership either.
    link.mode = { kind: "slow", applyMs: 1e9, replyMs: 0 };
    await clock.advance(10_000 - 1);
    assert.equal(a.isLeader(), true);
    await clock.advance(1);
    assert.equal(a.isLeader(), false);
    assert.equal(stoppedAt, lastRenewStart + 10_000);
    await a.stop();
    await running;
  });

  it("hands over only after the leader has been silent for a lease duration", async () => {
    const clock = new FakeClock();
    const server = new LeaseServer();
    const linkA = new Link(server, clock);
    const a = elector(clock, linkA, "a");
    const b = elector(clock, new Link(server, clock), "b");
    const runs = [a.run()];
    await clock.advance(0);
    runs.push(b.run());
    await clock.advance(30_000);
    assert.equal(a.isLeader(), true);
    assert.equal(b.isLeader(), false);
    assert.equal(b.leader, "a");

    linkA.mode = { kind: "down" };
    // The last renewal b can have seen is a's last successful write.
    const lastWrite = server.lease?.renewTime as number;
    let bStartedAt: number | undefined;
    while (bStartedAt === undefined) {
      await clock.step();
      if (b.isLeader()) bStartedAt = clock.now();
      assert.ok(!(a.isLeader() && b.isLeader()));
    }
    assert.ok(bStartedAt - lastWrite > 15_000, `took over ${bStartedAt - lastWrite} ms later`);
    // b retries every 2 s (jitter 0 here), so it notices expiry within one retry period.
    assert.ok(bStartedAt - lastWrite <= 15_000 + 2_000 + 2_000);
    assert.equal(server.lease?.holderIdentity, "b");
    assert.equal(server.lease?.leaseTransitions, 1);

    // a comes back as a standby and does not disturb b.
    linkA.mode = { kind: "up" };
    await clock.advance(60_000);
    assert.equal(a.isLeader(), false);
    assert.equal(b.isLeader(), true);
    assert.equal(a.leader, "b");
    await Promise.all([a.stop(), b.stop()]);
    await Promise.all(runs);
  });

  it("hands over at the standby's next retry when the leader releases on stop", async () => {
    const clock = new FakeClock();
    const server = new LeaseServer();
    const a = elector(clock, new Link(server, clock), "a");
    const b = elector(clock, new Link(server, clock), "b");
    const runs = [a.run()];
    await clock.advance(0);
    runs.push(b.run());
    await clock.advance(30_000);
    const stoppedAt = clock.now();
    await a.stop();
    while (!b.isLeader()) await clock.step();
    assert.ok(clock.now() - stoppedAt <= 2_000, `took ${clock.now() - stoppedAt} ms`);
    assert.equal(server.lease?.leaseTransitions, 1);
    await b.stop();
    await Promise.all(runs);
  });

  it("says when its first try for the lease is over, won or not", async () => {
    const clock = new FakeClock();
    const server = new LeaseServer();
    const slow = new Link(server, clock);
    slow.mode = { kind: "slow", applyMs: 50, replyMs: 50 };
    const seen: string[] = [];
    const a = elector(clock, slow, "a", { onStartedLeading: () => seen.push("a leads") });
    const b = elector(clock, new Link(server, clock), "b");
    void a.tried.then(() => seen.push("a tried"));
    void b.tried.then(() => seen.push(`b tried, leads: ${b.isLeader()}`));
    const runs = [a.run()];
    await clock.advance(150);
    assert.deepEqual(seen, [], "a read and a write of 100 ms each");
    await clock.advance(50);
    assert.deepEqual(seen, ["a leads", "a tried"], "after onStartedLeading, not before");
    runs.push(b.run());
    await clock.advance(0);
    assert.deepEqual(seen.at(-1), "b tried, leads: false");

    const c = elector(clock, new Link(server, clock), "c");
    await c.stop();
    await c.tried; // stopping before any try settles it too
    slow.mode = { kind: "up" };
    await Promise.all([a.stop(), b.stop()]);
    await Promise.all(runs);
  });

  it("resolves run() only once the lease is released when its signal stops it", async () => {
    const clock = new FakeClock();
    const server = new LeaseServer();
    const link = new Link(server, clock);
    const a = elector(clock, link, "a");
    const abort = new AbortController();
    let resolved = false;
    const running = a.run(abort.signal).then(() => (resolved = true));
    await clock.advance(0);
    assert.equal(a.isLeader(), true);
    link.mode = { kind: "slow", applyMs: 100, replyMs: 100 };
    abort.abort();
    await clock.advance(50);
    assert.equal(resolved, false, "the release is still on its way");
    assert.equal(server.lease?.holderIdentity, "a");
    await clock.advance(200);
    await running;
    assert.equal(server.lease?.holderIdentity, "", "released before run() resolved");
  });

  it("does not release a lease it no longer holds", async () => {
    const clock = new FakeClock();
    const server = new LeaseServer();
    const link = new Link(server, clock);
    const a = elector(clock, link, "a");
    const running = a.run();
    await clock.advance(1_000);
    // Someone else wrote the lease since a's last renewal (a still believes it leads).
    server.lease = { ...(server.lease as Lease), holderIdentity: "other", resourceVersion: "99" };
    assert.equal(a.isLeader(), true);
    await a.stop();
    await running;
    assert.equal(server.lease?.holderIdentity, "other");
  });

  it("rejects timings that would make two leaders possible", () => {
    const base = { identity: "a", store: new Link(new LeaseServer(), new FakeClock()) };
    const clock = new FakeClock();
    assert.throws(
      () => new LeaderElector({ ...base, clock, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }),
      /leaseDuration must be greater than renewDeadline/,
    );
    assert.throws(
      () => new LeaderElector({ ...base, clock, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }),
      /renewDeadline must be greater/,
    );
  });

  it("never has two leaders at one instant, through partitions, losses, delays and restarts", () =>
    fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            {
              weight: 4,
              arbitrary: fc.record({
                op: fc.constant("advance" as const),
                ms: fc.integer({ min: 1, max: 6_000 }),
              }),
            },
            {
              weight: 2,
              arbitrary: fc.record({
                op: fc.constant("link" as const),
                who: fc.nat(3),
                mode: fc.oneof(
                  fc.constant<LinkMode>({ kind: "up" }),
                  fc.constant<LinkMode>({ kind: "down" }),
                  fc.constant<LinkMode>({ kind: "lossy" }),
                  fc.record({
                    kind: fc.constant("slow" as const),
                    applyMs: fc.integer({ min: 0, max: 12_000 }),
                    replyMs: fc.integer({ min: 0, max: 12_000 }),
                  }),
                ),
              }),
            },
            {
              weight: 1,
              arbitrary: fc.record({ op: fc.constant("stop" as const), who: fc.nat(3) }),
            },
            {
              weight: 1,
              arbitrary: fc.record({ op: fc.constant("start" as const), who: fc.nat(2) }),
            },
          ),
          { maxLength: 40 },
        ),
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), {
          minLength: 1,
          maxLength: 8,
        }),
        // Candidates' clocks disagree (by up to an hour) but run at one rate: safety must
        // not depend on comparing one candidate's time with another's.
        fc.tuple(fc.integer({ min: -3.6e6, max: 3.6e6 }), fc.integer({ min: -3.6e6, max: 3.6e6 })),
        async (steps, jitters, [skewB, skewC]) => {
          const clock = new FakeClock();
          const server = new LeaseServer();
          const clocks = [0, skewB, skewC].map((skew) => new OffsetClock(clock, skew));
          const links = [0, 1, 2].map(() => new Link(server, clock));
          const ids = ["a", "b", "c"];
          // every instance ever started, including stopped ones: a stopped one must not lead either
          const all: LeaderElector[] = [];
          // candidate -> its live instance and the promise of its stop, if stopping
          const live = new Map<number, { e: LeaderElector; stopping?: Promise<void> }>();
          const violations: string[] = [];
          let jitter = 0;
          const leaders = (): string[] => all.filter((e) => e.isLeader()).map((e) => e.identity);

          const start = (who: number): void => {
            const current = live.get(who);
            if (current !== undefined && current.stopping === undefined) return;
            const e = elector(clocks[who] as Clock, links[who] as Link, ids[who] as string, {
              random: () => jitters[jitter++ % jitters.length] as number,
              // The instant belief starts is the one instant the count of leaders can
              // grow, so checking here (and not only between steps) is exhaustive.
              onStartedLeading: () => {
                const now = leaders();
                if (now.length > 1) violations.push(`at ${clock.now()}: ${now.join(", ")}`);
              },
            });
            all.push(e);
            live.set(who, { e });
            void e.run();
          };
          for (const who of [0, 1, 2]) start(who);
          // Candidate 3 stands for whoever leads now: trouble aimed at the leader is what
          // tests the hand-over, and random aim would rarely find it.
          const aim = (who: number): number => {
            if (who < 3) return who;
            const leader = [...live].find(([, { e }]) => e.isLeader());
            return leader?.[0] ?? 0;
          };

          for (const step of steps) {
            if (step.op === "advance") await clock.advance(step.ms);
            else if (step.op === "link") (links[aim(step.who)] as Link).mode = step.mode;
            else if (step.op === "start") start(step.who);
            else {
              const current = live.get(aim(step.who));
              if (current !== undefined && current.stopping === undefined)
                current.stopping = current.e.stop();
            }
            assert.deepEqual(violations, []);
            assert.ok(leaders().length <= 1, `leaders ${leaders().join(", ")}`);
          }

          // Once the network heals and everyone runs, exactly one leads.
          for (const link of links) link.mode = { kind: "up" };
          for (const who of [0, 1, 2]) start(who);
          await clock.advance(60_000);
          assert.deepEqual(violations, []);
          assert.equal(leaders().length, 1);
          // And when that leader is cut off for good, another takes over.
          const cut = aim(3);
          (links[cut] as Link).mode = { kind: "down" };
          await clock.advance(60_000);
          assert.deepEqual(violations, []);
          assert.equal(leaders().length, 1);
          assert.notEqual(leaders()[0], ids[cut]);

          // And nothing keeps running once all have stopped.
          await Promise.all([...live.values()].map(({ e }) => e.stop()));
          for (const link of links) link.mode = { kind: "up" };
          while (await clock.step());
          assert.equal(leaders().length, 0);
        },
      ),
      { numRuns: 400 },
    ));
});
