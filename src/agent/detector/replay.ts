// Replay protection for one sender, as IPsec does it (RFC 4303 §3.4.3): the highest
// (incarnation, sequence) seen and a bitmap of the 32 sequence numbers below it, so a packet
// overtaken by a later one is still accepted once while a copy of any packet is refused.
// A new incarnation (the sender restarted or refuted its death) starts a fresh window.

export const REPLAY_WINDOW = 32;

export class ReplayWindow {
  #incarnation = -1;
  #highest = -1;
  /** Bit d-1 is set when sequence number highest-d has been seen (1 ≤ d ≤ 32). */
  #seen = 0;

  /** True, and remembered, when (incarnation, seq) has not been seen and is not too old. */
  accept(incarnation: number, seq: number): boolean {
    if (incarnation < this.#incarnation) return false;
    if (incarnation > this.#incarnation) {
      this.#incarnation = incarnation;
      this.#highest = seq;
      this.#seen = 0;
      return true;
    }
    if (seq > this.#highest) {
      const shift = seq - this.#highest;
      // JavaScript shifts count modulo 32, so the two long jumps are spelled out.
      if (shift > REPLAY_WINDOW) this.#seen = 0;
      else if (shift === REPLAY_WINDOW) this.#seen = 0x80000000;
      else this.#seen = ((this.#seen << shift) | (1 << (shift - 1))) >>> 0;
      this.#highest = seq;
      return true;
    }
    const distance = this.#highest - seq;
    if (distance === 0 || distance > REPLAY_WINDOW) return false;
    const bit = (1 << (distance - 1)) >>> 0;
    if ((this.#seen & bit) !== 0) return false;
    this.#seen = (this.#seen | bit) >>> 0;
    return true;
  }
}
