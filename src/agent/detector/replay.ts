// Replay protection for the packets one sender sends this member. Each packet carries when
// it was sent (the sender's clock) and a sequence number; a packet is accepted when it was
// sent within MAX_SKEW_MS of this member's clock and its (sent at, seq) has not been seen.
// Packets are bound to their receiver by the tag (wire.ts), so one window per sender is a
// window per pair.
//
// Why not IPsec's "highest sequence number and a bitmap below it" (RFC 4303 §3.4.3), which
// this replaced: one forged packet numbered far ahead — any key holder can make one, in the
// name of any member — moves "highest" past every genuine packet still to come, and the
// real sender is refused until its numbers catch up: with the incarnation in the number, for
// ever. Here nothing a packet says moves the window: time does. The cost is a set of the
// packets seen in the last 2 × MAX_SKEW_MS (a few per second from each member that sends
// to us), and clocks that agree to within MAX_SKEW_MS — Kubernetes nodes run NTP.

/** How far a packet's send time may be from the receiver's clock, either way. */
export const MAX_SKEW_MS = 30_000;
/**
 * Most packets remembered per sender. Past it the oldest are forgotten (a replay of one of
 * those would be accepted again: only after someone holding the key flooded us in that
 * sender's name), never the newest refused: a flood must not silence the real sender.
 */
export const MAX_REMEMBERED = 8192;

export type ReplayVerdict = "fresh" | "replayed" | "stale";

export class ReplayWindow {
  /** "sentAt:seq" of each packet seen, oldest first by arrival. */
  readonly #seen = new Set<string>();
  /** [sentAt, key] in arrival order, to forget them. */
  readonly #order: { sentAt: number; key: string }[] = [];
  #head = 0;

  /** Whether a packet sent at `sentAt` (sender's clock) with `seq` is taken, at `now`. */
  check(sentAt: number, seq: number, now: number): ReplayVerdict {
    if (Math.abs(sentAt - now) > MAX_SKEW_MS) return "stale";
    this.#forget(now);
    const key = `${sentAt}:${seq}`;
    if (this.#seen.has(key)) return "replayed";
    this.#seen.add(key);
    this.#order.push({ sentAt, key });
    return "fresh";
  }

  /** Packets remembered now. */
  get size(): number {
    return this.#seen.size;
  }

  #forget(now: number): void {
    // A packet sent before now - MAX_SKEW_MS is refused as stale, so it need not be kept.
    // Arrival order is send order but for reordering and skewed clocks, so an entry or two
    // may stay a little longer than needed: harmless.
    const order = this.#order;
    while (
      this.#head < order.length &&
      (order[this.#head]!.sentAt < now - MAX_SKEW_MS || order.length - this.#head > MAX_REMEMBERED)
    ) {
      this.#seen.delete(order[this.#head]!.key);
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > order.length) {
      order.splice(0, this.#head);
      this.#head = 0;
    }
  }
}
