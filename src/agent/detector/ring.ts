// Members' places on the heartbeat ring. Hashing the names scatters a rack's nodes (often
// named in sequence) around the ring, so one rack failing does not silence every watcher
// of one member at once.
import { createHash } from "node:crypto";

/** Where `name` sits on the ring; members are ordered by this string. */
export function ringPosition(name: string): string {
  return createHash("sha256").update(name, "utf8").digest("hex");
}

/**
 * The `count` members after `index` on `ring`, wrapping around and never `index` itself:
 * the members `ring[index]` sends heartbeats to (or, backwards, hears them from).
 */
export function neighbours<T>(ring: readonly T[], index: number, count: number, step: 1 | -1): T[] {
  const n = ring.length;
  const result: T[] = [];
  for (let d = 1; d <= Math.min(count, n - 1); d++)
    result.push(ring[(index + step * d + n * d) % n]!);
  return result;
}
