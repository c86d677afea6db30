// Measures an outage the way a client sees it: an HTTP GET on a new connection every few
// milliseconds, each with its own timeout, so one stuck request (a SYN sent to a dead
// node's MAC) never hides the next one's success. The lab backends answer with the name of
// the node that served, so the result also says where the traffic went.
import { request } from "node:http";

export interface ProbeSample {
  /** When the request was sent (ms since the epoch). */
  sentAt: number;
  /** Milliseconds until the answer, or until it failed. */
  ms: number;
  ok: boolean;
  /** The body's first line: the serving node, for the lab's backends. */
  node?: string;
  error?: string;
}

export interface ProbeOptions {
  url: string;
  intervalMs: number;
  timeoutMs: number;
  durationMs: number;
  /** Local address to send from (the client namespace has one per family). */
  localAddress?: string;
}

function once(url: string, timeoutMs: number, localAddress?: string): Promise<ProbeSample> {
  const sentAt = Date.now();
  const started = performance.now();
  return new Promise((resolve) => {
    const done = (sample: Omit<ProbeSample, "sentAt" | "ms">) =>
      resolve({ sentAt, ms: Math.round((performance.now() - started) * 10) / 10, ...sample });
    const req = request(url, { agent: false, timeout: timeoutMs, localAddress }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => {
        const ok = response.statusCode === 200;
        done({
          ok,
          node: body.split("\n")[0],
          error: ok ? undefined : `HTTP ${response.statusCode}`,
        });
      });
      response.on("error", (error) => done({ ok: false, error: error.message }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (error) =>
      done({ ok: false, error: (error as NodeJS.ErrnoException).code ?? error.message }),
    );
    req.end();
  });
}

/** Sends a request every `intervalMs` for `durationMs` and returns every sample, in send order. */
export async function probe(options: ProbeOptions): Promise<ProbeSample[]> {
  const pending: Promise<ProbeSample>[] = [];
  const end = Date.now() + options.durationMs;
  let next = Date.now();
  while (next < end) {
    pending.push(once(options.url, options.timeoutMs, options.localAddress));
    next += options.intervalMs;
    const wait = next - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  return Promise.all(pending);
}

export interface Outage {
  /**
   * From the failure to the first good reply to a request sent after it — the earliest to
   * arrive, not the earliest sent: a request sent just after the failure may wait out TCP's
   * one-second SYN retransmission while later ones are answered at once.
   */
  firstGoodReplyMs: number | undefined;
  /** Requests sent after the failure that failed (reset, timed out). */
  failedRequests: number;
  /** Who sent that first good reply. */
  servedBy: string | undefined;
}

/**
 * Reads the outage caused by a failure at `failedAt` (ms since the epoch) from the samples.
 * Answers from `failedNode` itself do not count: they were in flight before it went down.
 */
export function outageAfter(
  samples: readonly ProbeSample[],
  failedAt: number,
  failedNode?: string,
): Outage {
  const after = samples.filter((s) => s.sentAt >= failedAt);
  let first: ProbeSample | undefined;
  for (const sample of after) {
    if (!sample.ok || sample.node === failedNode) continue;
    if (!first || sample.sentAt + sample.ms < first.sentAt + first.ms) first = sample;
  }
  return {
    firstGoodReplyMs: first ? first.sentAt + first.ms - failedAt : undefined,
    failedRequests: after.filter((s) => !s.ok).length,
    servedBy: first?.node,
  };
}
