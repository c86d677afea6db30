// Whether a peer counts as alive for elections: the failure detector's verdict, bent in two
// places on purpose (docs/architecture.md, "The agent"). No I/O: the clock and the
// detector's view come in, and `wake` asks for a reconcile when a verdict will change by
// itself (a hold-off or a restart grace ending).
import type { Clock } from "../kube/clock.ts";

export interface LivenessSource {
  isAlive(name: string): boolean;
  view(): { dead: string[] };
}

export class PeerLiveness {
  readonly #clock: Clock;
  readonly #holdOffMs: () => number;
  readonly #wake: () => void;
  #lastDead = new Set<string>();
  /** node -> when the detector brought it back */
  readonly #revivedAt = new Map<string, number>();
  /** node -> the restart grace a wake-up is scheduled for */
  readonly #graceWakeups = new Map<string, number>();

  constructor(clock: Clock, holdOffMs: () => number, wake: () => void) {
    this.#clock = clock;
    this.#holdOffMs = holdOffMs;
    this.#wake = wake;
  }

  /**
   * Notes who the detector brought back. Such a node (its agent restarted, or it came back
   * from a partition) counts only after the hold-off: its agent needs that long to warm up
   * and announce again, and if the node holding its addresses let go at once, traffic would
   * go on to a node that no longer holds them. Meanwhile both hold the address; both answer.
   */
  observe(detector: LivenessSource): void {
    const now = this.#clock.now();
    const dead = new Set(detector.view().dead);
    for (const name of this.#lastDead) {
      if (dead.has(name)) continue;
      this.#revivedAt.set(name, now);
      this.#clock.setTimeout(this.#wake, this.#holdOffMs() + 10);
    }
    this.#lastDead = dead;
  }

  /**
   * `restartingUntil`: when the peer's own restart mark ends (ms), if it has one still
   * ahead; during it the peer counts as alive whatever the detector says.
   */
  alive(node: string, detector: LivenessSource, restartingUntil: number | undefined): boolean {
    if (restartingUntil !== undefined) {
      this.#revivedAt.delete(node);
      if (this.#graceWakeups.get(node) !== restartingUntil) {
        this.#graceWakeups.set(node, restartingUntil);
        // Decide again when the grace ends, in case the node does not come back.
        this.#clock.setTimeout(
          () => {
            this.#graceWakeups.delete(node);
            this.#wake();
          },
          restartingUntil - this.#clock.now() + 10,
        );
      }
      return true;
    }
    if (!detector.isAlive(node)) return false;
    const revived = this.#revivedAt.get(node);
    if (revived === undefined) return true;
    if (this.#clock.now() - revived < this.#holdOffMs()) return false;
    this.#revivedAt.delete(node);
    return true;
  }
}
