// Repeating an announcement: the first round goes out at once and the caller waits only
// for it; the rest follow in the background, because a switch or router that missed the
// first packet (busy, or its port still coming up) is exactly the one the repeats are for.
import { setTimeout as sleep } from "node:timers/promises";

export interface AnnouncementResult {
  /** Packets that went out. */
  readonly sent: number;
  /** Rounds completed, at most `count`. */
  readonly rounds: number;
  /** Stopped by the AbortSignal (the address moved on, or the agent is stopping). */
  readonly cancelled: boolean;
  /** Why a later round failed; the rounds after it were not tried. */
  readonly error?: string;
}

export interface Announcement {
  /** Packets sent so far; grows while the repeats run. */
  readonly sent: number;
  /** Settles after the last round, a failure or cancellation. Never rejects. */
  readonly done: Promise<AnnouncementResult>;
}

/** Sends one round and says how many packets went out; throws when it could send none. */
export type SendRound = (signal: AbortSignal | undefined) => Promise<number>;

/**
 * Runs `count` rounds `intervalMs` apart. Resolves once the first round is out, rejects if
 * it fails or is aborted. count 0 (allowed by AgentConfig) announces nothing.
 */
export async function startRepeats(
  count: number,
  intervalMs: number,
  sendRound: SendRound,
  signal?: AbortSignal,
): Promise<Announcement> {
  let sent = 0;
  if (count <= 0) {
    return { sent, done: Promise.resolve({ sent, rounds: 0, cancelled: false }) };
  }
  signal?.throwIfAborted();
  sent += await sendRound(signal);

  const rest = async (): Promise<AnnouncementResult> => {
    let rounds = 1;
    for (; rounds < count; rounds++) {
      try {
        await sleep(intervalMs, undefined, { signal });
        sent += await sendRound(signal);
      } catch (error) {
        if (signal?.aborted) return { sent, rounds, cancelled: true };
        return { sent, rounds, cancelled: false, error: messageOf(error) };
      }
    }
    return { sent, rounds, cancelled: false };
  };
  const done = rest();
  return {
    get sent() {
      return sent;
    },
    done,
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
