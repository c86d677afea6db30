// The heartbeat key and its rotation. Nodes read a changed Secret at different moments,
// so for the first half of the grace period after a change we keep signing with the key
// in use before and accept both; then we sign with the new one and still accept the old
// until the grace period ends. A node that learns of the change up to half the grace
// period before or after us therefore accepts every packet we send, and we accept its.
import { createSecretKey, type KeyObject } from "node:crypto";

export const KEY_GRACE_MS = 10_000;

export class Keyring {
  #current: KeyObject;
  #currentBytes: Buffer;
  /** The key signed with before the last change; undefined once its grace has ended. */
  #previous: KeyObject | undefined;
  /** When the current key was set. */
  #since = -Infinity;
  readonly #graceMs: number;
  // The answers of accepted(), built once per change so that checking a packet allocates
  // nothing: [current], [previous, current], [current, previous].
  #only: KeyObject[];
  #early: KeyObject[] = [];
  #late: KeyObject[] = [];

  constructor(key: Buffer, graceMs = KEY_GRACE_MS) {
    if (key.length === 0) throw new RangeError("empty heartbeat key");
    this.#current = createSecretKey(Buffer.from(key));
    this.#currentBytes = Buffer.from(key);
    this.#only = [this.#current];
    this.#graceMs = graceMs;
  }

  /** Starts a rotation; false when `key` is the current key (a resync of the Secret). */
  set(key: Buffer, now: number): boolean {
    if (key.length === 0) throw new RangeError("empty heartbeat key");
    if (key.equals(this.#currentBytes)) return false;
    const previous = this.signing(now);
    this.#previous = previous;
    this.#current = createSecretKey(Buffer.from(key));
    this.#currentBytes = Buffer.from(key);
    this.#since = now;
    this.#only = [this.#current];
    this.#early = [previous, this.#current];
    this.#late = [this.#current, previous];
    return true;
  }

  signing(now: number): KeyObject {
    return this.#previous !== undefined && now < this.#since + this.#graceMs / 2
      ? this.#previous
      : this.#current;
  }

  /** Keys a packet may be signed with, the likelier first. */
  accepted(now: number): readonly KeyObject[] {
    if (this.#previous === undefined) return this.#only;
    if (now >= this.#since + this.#graceMs) {
      this.#previous = undefined;
      return this.#only;
    }
    return now < this.#since + this.#graceMs / 2 ? this.#early : this.#late;
  }
}
