// Rendezvous (highest-random-weight) hashing: every agent ranks the same candidates for an
// address the same way without talking to the others, and when a node leaves only the
// addresses it held get a new announcer (DESIGN §5).
import { createHash } from "node:crypto";

/** sha256(node + "#" + address) as a hex string; hex strings of equal length sort like the numbers. */
export function rendezvousWeight(node: string, address: string): string {
  return createHash("sha256").update(`${node}#${address}`).digest("hex");
}

/** The node that announces `address`: the candidate with the highest weight (ties by name). */
export function electAnnouncer(address: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestWeight = "";
  for (const node of candidates) {
    const weight = rendezvousWeight(node, address);
    if (best === undefined || weight > bestWeight || (weight === bestWeight && node < best)) {
      best = node;
      bestWeight = weight;
    }
  }
  return best;
}
