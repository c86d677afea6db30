// Leader election on a Lease record, with client-go's semantics and timings
// (k8s.io/client-go/tools/leaderelection).
//
// Why no two candidates ever believe they lead at the same instant — the timing argument.
// It needs only that every candidate's clock runs at the same rate; they need not agree on
// the time, because no candidate ever compares its clock with a timestamp written by
// another (the lease's renewTime is informative only).
//
//  1. A leader's belief ends at S + renewDeadline, where S is the local time at which it
//     *started* its last successful write of the lease. The write took effect at some
//     moment W ≥ S (a request cannot land before it is sent).
//  2. Another candidate may take the lease only when it has watched one unchanged record
//     (same resourceVersion) for a full leaseDuration: it remembers O, the local time at
//     which it first saw that record, and waits until now > O + leaseDuration. It cannot
//     have seen the record before it was written, so O ≥ W ≥ S.
//  3. Its takeover is a write conditioned on that resourceVersion. If the leader wrote
//     anything since (a renewal the candidate has not seen), the takeover fails with a
//     conflict. So a takeover that succeeds replaced exactly the leader's last write, and
//     the new leader's belief starts after O + leaseDuration ≥ S + leaseDuration
//     > S + renewDeadline — after the old leader's belief has ended.
//
// Hence renewDeadline < leaseDuration is required (checked below), and a leader stops
// believing at its deadline by its own timer even if a request to the store hangs. A
// released lease (holder cleared) may be taken at once: the releasing leader stopped
// believing before it sent the release.
import type { Clock, TimerHandle } from "../clock.ts";
import type { Logger } from "../log.ts";

/** The Lease fields election uses, as plain data (times are epoch ms, informative only). */
export interface Lease {
  /** Empty when released. */
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: number;
  renewTime: number;
  leaseTransitions: number;
  /** Set by the store; update() fails with LeaseConflict when it is not the current one. */
  resourceVersion?: string;
}

export class LeaseConflict extends Error {
  override readonly name = "LeaseConflict";
}

export class LeaseNotFound extends Error {
  override readonly name = "LeaseNotFound";
}

/** One Lease object. Implementations: lease-store.ts (the API server), tests (memory). */
export interface LeaseStore {
  /** The lease, or undefined if it does not exist. */
  get(): Promise<Lease | undefined>;
  /** Fails with LeaseConflict if it already exists. */
  create(lease: Lease): Promise<Lease>;
  /** Optimistic: fails with LeaseConflict if lease.resourceVersion is stale, LeaseNotFound if gone. */
  update(lease: Lease): Promise<Lease>;
}

export interface LeaderElectorOptions {
  identity: string;
  store: LeaseStore;
  clock: Clock;
  /** How long a standby waits on an unchanged lease before taking it. Default 15 s. */
  leaseDurationMs?: number;
  /** How long a leader keeps leading without a successful renewal. Default 10 s. */
  renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew. Default 2 s. */
  retryPeriodMs?: number;
  /** Clear the lease on stop so a standby takes over at once. Default true. */
  releaseOnStop?: boolean;
  /** Called on becoming leader; `signal` aborts when leadership ends. */
  onStartedLeading?(signal: AbortSignal): void;
  /** Called when leadership ends, by losing the lease or by stop(). */
  onStoppedLeading?(): void;
  /** Called when the observed holder changes, including to ourselves. */
  onNewLeader?(identity: string): void;
  log?: Pick<Logger, "info" | "warn">;
  /** Source of jitter for standby retries; Math.random unless a test needs determinism. */
  random?: () => number;
}

// client-go's JitterFactor: standbys retry after retryPeriod·(1 + 1.2·rand), so a crowd of
// them does not hit the API server in lockstep.
const jitterFactor = 1.2;

export class LeaderElector {
  readonly identity: string;
  readonly #store: LeaseStore;
  readonly #clock: Clock;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #opts: LeaderElectorOptions;
  readonly #random: () => number;

  // the last lease record seen, and the local time it was first seen (client-go's
  // observedRecord / observedTime)
  #observed: Lease | undefined;
  #observedAt = 0;
  #reportedLeader: string | undefined;
  // requests are failing: logged once when it starts, not on every retry
  #failing = false;

  // while leading: when belief ends, the timer that ends it, and the signal given out
  #deadline = 0;
  #deadlineTimer: TimerHandle | undefined;
  #leading: AbortController | undefined;

  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;
  // settles once stop() has released the lease, or found it had none to release
  #released: Promise<void> = Promise.resolve();
  #markTried!: () => void;
  /**
   * Resolves once the first try for the lease is over — won (onStartedLeading has been
   * called) or not — or campaigning stopped.
   */
  readonly tried: Promise<void> = new Promise((resolve) => (this.#markTried = resolve));

  constructor(opts: LeaderElectorOptions) {
    this.identity = opts.identity;
    this.#store = opts.store;
    this.#clock = opts.clock;
    this.#leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.#retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    this.#opts = opts;
    this.#random = opts.random ?? Math.random;
    if (this.identity === "") throw new Error("leader election needs a non-empty identity");
    if (!(this.#leaseDurationMs > this.#renewDeadlineMs))
      throw new Error("leaseDuration must be greater than renewDeadline");
    if (!(this.#renewDeadlineMs > jitterFactor * this.#retryPeriodMs))
      throw new Error("renewDeadline must be greater than retryPeriod*1.2");
  }

  /** True while this candidate leads; false from the instant its renew deadline passes. */
  isLeader(): boolean {
    return this.#leading !== undefined && this.#clock.now() < this.#deadline;
  }

  /** The holder last observed in the lease, if any. */
  get leader(): string | undefined {
    return this.#reportedLeader;
  }

  /**
   * Campaigns, leads, and campaigns again after losing the lease, until stop() or `signal`.
   * Resolves once stopped (after releasing the lease if it led).
   */
  run(signal?: AbortSignal): Promise<void> {
    signal?.addEventListener("abort", () => void this.stop(), { once: true });
    if (signal?.aborted) void this.stop();
    // The loop ends as soon as stop() is called, before the release it sends has landed; a
    // caller that shuts its connections when this resolves would cut the release off and
    // leave the standby waiting out the whole lease.
    this.#running ??= this.#loop().then(() => this.#released);
    return this.#running;
  }

  /** Stops campaigning; a leader stops leading and releases the lease. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#markTried();
    const wasLeading = this.isLeader();
    this.#stopLeading("stopped");
    if (wasLeading && (this.#opts.releaseOnStop ?? true)) this.#released = this.#release();
    await this.#released;
    await this.#running;
  }

  async #loop(): Promise<void> {
    const stopped = this.#stop.signal;
    while (!stopped.aborted) {
      if (this.isLeader()) {
        // Renew every retryPeriod; a failure is retried at the same pace until the deadline
        // timer ends leadership (client-go's renew loop).
        if (!(await this.#clock.sleep(this.#retryPeriodMs, stopped))) break;
        if (this.isLeader()) await this.#attempt();
      } else {
        if (await this.#attempt()) continue;
        const wait = this.#retryPeriodMs * (1 + jitterFactor * this.#random());
        if (!(await this.#clock.sleep(wait, stopped))) break;
      }
    }
  }

  // One tryAcquireOrRenew. Returns whether we lead afterwards.
  async #attempt(): Promise<boolean> {
    const started = this.#clock.now();
    try {
      const written = await this.#abortable(this.#tryAcquireOrRenew(started));
      this.#failing = false;
      if (written === undefined) return this.isLeader();
      this.#observe(written);
      if (this.#stop.signal.aborted) return false;
      if (this.#clock.now() >= started + this.#renewDeadlineMs) return false;
      this.#renewed(started);
      return true;
    } catch (err) {
      // A conflict is the normal outcome of a race with another candidate.
      if (!this.#failing && !this.#stop.signal.aborted && !(err instanceof LeaseConflict)) {
        this.#failing = true;
        this.#opts.log?.warn(
          { err, identity: this.identity },
          "leader election: lease request failed",
        );
      }
      return this.isLeader();
    } finally {
      this.#markTried();
    }
  }

  // Reads the lease and, if we may hold it, writes ourselves in. Returns the written
  // record, or undefined when someone else validly holds it.
  async #tryAcquireOrRenew(started: number): Promise<Lease | undefined> {
    const current = await this.#store.get();
    if (current === undefined) {
      return this.#store.create({
        holderIdentity: this.identity,
        leaseDurationSeconds: this.#leaseSeconds(),
        acquireTime: started,
        renewTime: started,
        leaseTransitions: 0,
      });
    }
    this.#observe(current);
    const now = this.#clock.now();
    const ours = current.holderIdentity === this.identity;
    const expiresAt = this.#observedAt + current.leaseDurationSeconds * 1000;
    if (current.holderIdentity !== "" && !ours && now <= expiresAt) return undefined;
    return this.#store.update({
      holderIdentity: this.identity,
      leaseDurationSeconds: this.#leaseSeconds(),
      acquireTime: ours ? current.acquireTime : started,
      renewTime: started,
      leaseTransitions: ours ? current.leaseTransitions : current.leaseTransitions + 1,
      resourceVersion: current.resourceVersion,
    });
  }

  // Leases count whole seconds; rounding up only makes standbys wait longer, never less.
  #leaseSeconds(): number {
    return Math.ceil(this.#leaseDurationMs / 1000);
  }

  #observe(lease: Lease): void {
    if (this.#observed?.resourceVersion !== lease.resourceVersion) {
      this.#observed = lease;
      this.#observedAt = this.#clock.now();
    }
    const holder = lease.holderIdentity;
    if (holder !== "" && holder !== this.#reportedLeader) {
      this.#reportedLeader = holder;
      this.#opts.onNewLeader?.(holder);
    }
  }

  #renewed(started: number): void {
    this.#deadline = started + this.#renewDeadlineMs;
    if (this.#deadlineTimer !== undefined) this.#clock.clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = this.#clock.setTimeout(
      () => this.#stopLeading("renew deadline passed"),
      this.#deadline - this.#clock.now(),
    );
    if (this.#leading === undefined) {
      this.#leading = new AbortController();
      this.#opts.log?.info({ identity: this.identity }, "leader election: started leading");
      this.#opts.onStartedLeading?.(this.#leading.signal);
    }
  }

  #stopLeading(why: string): void {
    if (this.#deadlineTimer !== undefined) this.#clock.clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = undefined;
    this.#deadline = 0;
    const leading = this.#leading;
    if (leading === undefined) return;
    this.#leading = undefined;
    this.#opts.log?.info({ identity: this.identity, why }, "leader election: stopped leading");
    leading.abort();
    this.#opts.onStoppedLeading?.();
  }

  // client-go's ReleaseOnCancel: an empty holder lets a standby acquire on its next try
  // instead of waiting out leaseDuration.
  async #release(): Promise<void> {
    const last = this.#observed;
    if (last === undefined || last.holderIdentity !== this.identity) return;
    const now = this.#clock.now();
    try {
      this.#observe(
        await this.#store.update({
          holderIdentity: "",
          leaseDurationSeconds: 1,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: last.leaseTransitions,
          resourceVersion: last.resourceVersion,
        }),
      );
    } catch (err) {
      this.#opts.log?.warn({ err, identity: this.identity }, "leader election: release failed");
    }
  }

  // A store request that hangs must not keep stop() from returning.
  #abortable<T>(p: Promise<T>): Promise<T | undefined> {
    const stopped = this.#stop.signal;
    if (stopped.aborted) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => resolve(undefined);
      stopped.addEventListener("abort", onAbort, { once: true });
      p.then(
        (v) => {
          stopped.removeEventListener("abort", onAbort);
          resolve(v);
        },
        (e: unknown) => {
          stopped.removeEventListener("abort", onAbort);
          reject(e);
        },
      );
    });
  }
}
