// A token bucket on a Clock: the work queue's overall limit, the event spam filter, and
// the client-side request limit that keeps a controller from flooding the API server.
import type { Clock } from "../clock.ts";

export class TokenBucket {
  readonly qps: number;
  readonly burst: number;
  readonly #clock: Clock;
  // May go negative: reservations made ahead of time are debts paid off by refill, which
  // is what makes reserve() hand out evenly spaced delays (golang.org/x/time/rate).
  #tokens: number;
  #last: number;

  constructor(qps: number, burst: number, clock: Clock) {
    if (!(qps > 0) || !(burst >= 1))
      throw new Error(`invalid token bucket qps=${qps} burst=${burst}`);
    this.qps = qps;
    this.burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#last = clock.now();
  }

  #refill(): void {
    const now = this.#clock.now();
    if (now > this.#last) {
      this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) * this.qps) / 1000);
      this.#last = now;
    }
  }

  /** Takes a token now if one is available. */
  tryTake(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Takes a token, possibly borrowed from the future; returns how long to wait for it, in ms. */
  reserve(): number {
    this.#refill();
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens * 1000) / this.qps);
  }

  /**
   * Resolves when a token is ours. Aborting gives the token back only approximately (the
   * slot stays reserved), which is fine for shutdown, the one reason to abort.
   */
  async wait(signal?: AbortSignal): Promise<void> {
    const delay = this.reserve();
    if (delay > 0) await this.#clock.sleep(delay, signal);
  }
}
