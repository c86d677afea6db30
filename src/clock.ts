// Time as a dependency: queues, rate limiters, the lease elector and the event recorder
// all read and wait on a Clock, so their tests move time by hand instead of sleeping.

/** An opaque handle for a scheduled callback. */
export interface TimerHandle {
  readonly __timer: unique symbol;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Resolves true after `ms`, or false as soon as `signal` aborts (never rejects). */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean>;
}

function sleepOn(clock: Clock, ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      resolve(false);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * `promise`'s value, or `fallback` once `ms` have passed, whichever comes first. The timer
 * is cleared either way: a bounded wait left pending would keep a stopping process alive
 * for its whole length (the agent exited 2 s after it was done).
 */
export async function within<T, F>(
  clock: Clock,
  ms: number,
  promise: Promise<T>,
  fallback: F,
): Promise<T | F> {
  const done = new AbortController();
  try {
    return await Promise.race([promise, clock.sleep(ms, done.signal).then(() => fallback)]);
  } finally {
    done.abort();
  }
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, Math.max(0, ms)) as unknown as TimerHandle,
  clearTimeout: (handle) => clearTimeout(handle as unknown as NodeJS.Timeout),
  sleep: (ms, signal) => sleepOn(realClock, ms, signal),
};

interface FakeTimer {
  due: number;
  seq: number;
  fn: () => void;
}

/** Lets every pending promise continuation run (they are all microtasks in tests). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A clock that moves only when told. `advance` fires due timers in time order (ties in
 * the order they were set) and lets the promise chains they start settle before moving
 * on, so a test sees the same interleaving on every run.
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers = new Map<TimerHandle, FakeTimer>();

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle = {} as TimerHandle;
    this.#timers.set(handle, { due: this.#now + Math.max(0, ms), seq: this.#seq++, fn });
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    return sleepOn(this, ms, signal);
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Time of the earliest pending timer, if any. */
  nextDue(): number | undefined {
    return this.#next()?.[1].due;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await settle();
    for (;;) {
      const next = this.#next();
      if (next === undefined || next[1].due > target) break;
      const [handle, timer] = next;
      this.#timers.delete(handle);
      this.#now = Math.max(this.#now, timer.due);
      timer.fn();
      await settle();
    }
    this.#now = target;
    await settle();
  }

  /** Moves to the next timer and fires everything due then; false if nothing is pending. */
  async step(): Promise<boolean> {
    const due = this.nextDue();
    if (due === undefined) return false;
    await this.advance(due - this.#now);
    return true;
  }

  #next(): [TimerHandle, FakeTimer] | undefined {
    let best: [TimerHandle, FakeTimer] | undefined;
    for (const entry of this.#timers) {
      const t = entry[1];
      if (
        best === undefined ||
        t.due < best[1].due ||
        (t.due === best[1].due && t.seq < best[1].seq)
      )
        best = entry;
    }
    return best;
  }
}
