// Whether a peer counts as alive for elections: the failure detector's verdict, bent in two
// places on purpose (docs/architecture.md, "The agent"). No I/O: the clock and the
// detector's view come in, and `wake` asks for a reconcile when a verdict will change by
// itself (a hold-off or a restart grace ending).
import type { Clock } from "../clock.ts";

export interface LivenessSource {
  isAlive(name: string): boolean;
  view(): { dead: string[] };
}

/**
 * How long a peer that comes back is held off elections: time for its agent to warm up
 * (one detector timeout) and announce what it wins.
 */
export function revivalHoldOffMs(detectorTimeoutMs: number): number {
  return 2 * detectorTimeoutMs;
}

/**
 * The longest a restart mark keeps a silent peer alive, on the reader's clock from when it
 * first saw the mark. The writer asks for 10 s (reporter.ts); the margin absorbs skew, and
 * the bound means a mark of year 9999, or a clock far ahead, cannot keep a dead node
 * "alive" for longer.
 */
export const MAX_RESTART_GRACE_MS = 15_000;

/**
 * Reads restart marks (`herald.dev/restarting-until`): when each peer's grace ends on this
 * node's clock, bounded by MAX_RESTART_GRACE_MS from first sight of that mark.
 */
export class RestartMarks {
  readonly #firstSeen = new Map<string, { value: string; at: number }>();

  /** When `node`'s grace ends (ms), if still ahead; `value` is its annotation, if any. */
  until(node: string, value: string | undefined, now: number): number | undefined {
    if (value === undefined) {
      this.#firstSeen.delete(node);
      return undefined;
    }
    let seen = this.#firstSeen.get(node);
    if (seen?.value !== value) this.#firstSeen.set(node, (seen = { value, at: now }));
    const asked = Date.parse(value);
    if (!Number.isFinite(asked)) return undefined;
    const until = Math.min(asked, seen.at + MAX_RESTART_GRACE_MS);
    return until > now ? until : undefined;
  }
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
  /**
   * node -> the end of the restart grace it had when last asked about: outlives the mark
   * itself, which the restarted agent clears once it announces — possibly before this
   * node's detector has heard it again.
   */
  readonly #underMark = new Map<string, number>();

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
    // Dead again within its hold-off: nothing to wait for any more.
    for (const name of dead) this.#revivedAt.delete(name);
    for (const name of this.#lastDead) {
      if (dead.has(name)) continue;
      // Back from a restart its mark covered: it never gave its addresses up, so there is
      // nothing to hold off. The mark may already be gone (the new agent clears it once it
      // announces), hence the memory of it rather than the mark itself.
      if (this.#underMark.has(name)) continue;
      this.#revivedAt.set(name, now);
      this.#clock.setTimeout(this.#wake, this.#holdOffMs() + 10);
    }
    this.#lastDead = dead;
  }

  /**
   * Back, but not counted yet: the node will win its addresses back when the hold-off
   * ends. Whoever holds them meanwhile answers for them but does not announce against it.
   */
  holdingOff(node: string): boolean {
    const revived = this.#revivedAt.get(node);
    return revived !== undefined && this.#clock.now() - revived < this.#holdOffMs();
  }

  /**
   * `restartingUntil`: when the peer's own restart mark ends (ms), if it has one still
   * ahead; during it the peer counts as alive whatever the detector says.
   */
  alive(node: string, detector: LivenessSource, restartingUntil: number | undefined): boolean {
    if (restartingUntil !== undefined) {
      this.#underMark.set(node, restartingUntil);
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
    const alive = detector.isAlive(node);
    const markedUntil = this.#underMark.get(node);
    if (markedUntil !== undefined) {
      // Its mark is gone: the restarted agent is back. Alive to the detector: done, and
      // no hold-off (it never gave its addresses up). Not heard yet: the grace it had
      // still holds; past it, this is a failure like any other.
      if (alive) {
        this.#underMark.delete(node);
        this.#revivedAt.delete(node);
        return true;
      }
      if (this.#clock.now() < markedUntil) return true;
      this.#underMark.delete(node);
    }
    if (!alive) return false;
    const revived = this.#revivedAt.get(node);
    if (revived === undefined) return true;
    if (this.#clock.now() - revived < this.#holdOffMs()) return false;
    this.#revivedAt.delete(node);
    return true;
  }
}
