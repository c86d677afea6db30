// A keyed work queue with client-go's semantics (workqueue.TypedRateLimitingInterface):
// a key waits in the queue at most once, one key is never handed to two workers at once,
// and a key added while it is being processed is processed once more after done().
import type { Clock, TimerHandle } from "../clock.ts";
import { TokenBucket } from "./ratelimit.ts";
import type { Logger } from "../log.ts";

/** Observations a caller can turn into metrics; the queue registers none itself. */
export interface QueueMetrics {
  /** Queue length after every change. */
  depth?(n: number): void;
  /** An add that was not a duplicate (client-go counts every add; we count real ones). */
  add?(): void;
  /** Time from being queued to being handed to a worker, in ms. */
  latency?(ms: number): void;
  /** Time from being handed out to done(), in ms. */
  workDuration?(ms: number): void;
  /** An addRateLimited call. */
  retry?(): void;
}

export interface RateLimiter<K> {
  /** Delay before `key` may be retried, in ms; counts a failure. */
  when(key: K): number;
  forget(key: K): void;
  numRequeues(key: K): number;
}

/** Per-key exponential backoff: base·2^failures, capped (client-go's ItemExponentialFailureRateLimiter). */
export class ExponentialBackoff<K> implements RateLimiter<K> {
  // key -> failures since the last forget
  readonly #failures = new Map<K, number>();
  readonly #baseMs: number;
  readonly #maxMs: number;

  constructor(baseMs = 5, maxMs = 1_000_000) {
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
  }

  when(key: K): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    // 2^failures overflows to Infinity long before it matters; min() absorbs it.
    return Math.min(this.#maxMs, this.#baseMs * 2 ** failures);
  }

  forget(key: K): void {
    this.#failures.delete(key);
  }

  numRequeues(key: K): number {
    return this.#failures.get(key) ?? 0;
  }
}

/**
 * client-go's DefaultControllerRateLimiter: the longer of a per-key backoff and an overall
 * token bucket, so one failing key backs off alone while a mass failure (the API server
 * down) cannot turn into a retry storm.
 */
export class DefaultRateLimiter<K> implements RateLimiter<K> {
  readonly #backoff: ExponentialBackoff<K>;
  readonly #bucket: TokenBucket;

  constructor(
    clock: Clock,
    opts: { baseMs?: number; maxMs?: number; qps?: number; burst?: number } = {},
  ) {
    this.#backoff = new ExponentialBackoff(opts.baseMs ?? 5, opts.maxMs ?? 1_000_000);
    this.#bucket = new TokenBucket(opts.qps ?? 10, opts.burst ?? 100, clock);
  }

  when(key: K): number {
    return Math.max(this.#backoff.when(key), this.#bucket.reserve());
  }

  forget(key: K): void {
    this.#backoff.forget(key);
  }

  numRequeues(key: K): number {
    return this.#backoff.numRequeues(key);
  }
}

export interface WorkQueueOptions<K> {
  clock: Clock;
  rateLimiter?: RateLimiter<K>;
  metrics?: QueueMetrics;
}

export class WorkQueue<K = string> {
  readonly #clock: Clock;
  readonly #limiter: RateLimiter<K>;
  readonly #metrics: QueueMetrics;

  // keys waiting for a worker, in order; each also in #dirty
  // A FIFO as an array and a head index: Array.shift() moves every element, which made
  // taking from a queue of 10k keys cost more than processing them.
  #queue: K[] = [];
  #head = 0;
  // keys that need processing (queued, or re-added while processing) -> time first added
  readonly #dirty = new Map<K, number>();
  // keys handed to a worker and not yet done -> time handed out
  readonly #processing = new Map<K, number>();
  // keys waiting out an addAfter delay -> when they become ready and the timer for it
  readonly #waiting = new Map<K, { readyAt: number; timer: TimerHandle }>();
  // workers blocked in get()
  readonly #getters: ((key: K | undefined) => void)[] = [];

  #shuttingDown = false;
  // settles shutDownWithDrain() once nothing is being processed
  #drain: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(opts: WorkQueueOptions<K>) {
    this.#clock = opts.clock;
    this.#limiter = opts.rateLimiter ?? new DefaultRateLimiter<K>(opts.clock);
    this.#metrics = opts.metrics ?? {};
  }

  /** Keys waiting for a worker (not counting those being processed or delayed). */
  get len(): number {
    return this.#queue.length - this.#head;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  add(key: K): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#metrics.add?.();
    this.#dirty.set(key, this.#clock.now());
    // Processed again by whoever holds it, once they call done().
    if (this.#processing.has(key)) return;
    this.#queue.push(key);
    this.#metrics.depth?.(this.#queue.length - this.#head);
    this.#dispatch();
  }

  /** Adds `key` after `delayMs`; of several pending delays for one key the earliest wins. */
  addAfter(key: K, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const readyAt = this.#clock.now() + delayMs;
    const pending = this.#waiting.get(key);
    if (pending !== undefined) {
      if (pending.readyAt <= readyAt) return;
      this.#clock.clearTimeout(pending.timer);
    }
    const timer = this.#clock.setTimeout(() => {
      this.#waiting.delete(key);
      this.add(key);
    }, delayMs);
    this.#waiting.set(key, { readyAt, timer });
  }

  /** Adds `key` after its backoff (see DefaultRateLimiter); counts a retry. */
  addRateLimited(key: K): void {
    if (this.#shuttingDown) return;
    this.#metrics.retry?.();
    this.addAfter(key, this.#limiter.when(key));
  }

  /** Resets `key`'s backoff; call it when the key was processed successfully. */
  forget(key: K): void {
    this.#limiter.forget(key);
  }

  numRequeues(key: K): number {
    return this.#limiter.numRequeues(key);
  }

  /**
   * The next key to process, or undefined once the queue is shut down and empty. Keys
   * already queued at shutdown are still handed out, as in client-go.
   */
  get(): Promise<K | undefined> {
    if (this.#queue.length - this.#head > 0) return Promise.resolve(this.#take());
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  /** Marks `key` processed; if it was added meanwhile it goes back in the queue. */
  done(key: K): void {
    const started = this.#processing.get(key);
    if (started === undefined) return;
    this.#processing.delete(key);
    this.#metrics.workDuration?.(this.#clock.now() - started);
    if (this.#dirty.has(key)) {
      this.#queue.push(key);
      this.#metrics.depth?.(this.#queue.length - this.#head);
      this.#dispatch();
    }
    if (this.#processing.size === 0) this.#drain?.resolve();
  }

  /** Stops accepting keys; workers get what is queued, then undefined. */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    for (const { timer } of this.#waiting.values()) this.#clock.clearTimeout(timer);
    this.#waiting.clear();
    // Getters only wait when the queue is empty, so all of them are told to stop.
    for (const resolve of this.#getters.splice(0)) resolve(undefined);
  }

  /** Shuts down, then resolves once every key handed out has been marked done. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.#processing.size === 0) return Promise.resolve();
    if (this.#drain === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.#drain = { promise, resolve };
    }
    return this.#drain.promise;
  }

  #take(): K {
    const key = this.#queue[this.#head++] as K;
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length - this.#head) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    const now = this.#clock.now();
    const addedAt = this.#dirty.get(key) ?? now;
    this.#dirty.delete(key);
    this.#processing.set(key, now);
    this.#metrics.depth?.(this.#queue.length - this.#head);
    this.#metrics.latency?.(now - addedAt);
    return key;
  }

  // Hands queued keys to blocked getters. Marking a key as processing happens here,
  // synchronously with removing it from the queue, which is what keeps one key from ever
  // reaching two workers.
  #dispatch(): void {
    while (this.#getters.length > 0 && this.#queue.length - this.#head > 0) {
      const resolve = this.#getters.shift() as (key: K | undefined) => void;
      resolve(this.#take());
    }
  }
}

export interface RunWorkersOptions {
  /** Failures after which a key is dropped (until it is added again); unlimited if unset. */
  maxRetries?: number;
  log?: Pick<Logger, "warn" | "error">;
}

/**
 * Runs `n` workers until the queue is shut down and empty. A handler that throws has its
 * key retried with backoff; one that returns has its backoff reset.
 */
export async function runWorkers<K>(
  queue: WorkQueue<K>,
  n: number,
  handler: (key: K) => Promise<void>,
  opts: RunWorkersOptions = {},
): Promise<void> {
  const worker = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await handler(key);
        queue.forget(key);
      } catch (err) {
        const retries = queue.numRequeues(key);
        if (opts.maxRetries !== undefined && retries >= opts.maxRetries) {
          queue.forget(key);
          opts.log?.error({ key, err, retries }, "dropping key after too many failures");
        } else {
          opts.log?.warn({ key, err, retries }, "processing failed; will retry");
          queue.addRateLimited(key);
        }
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: n }, worker));
}
