// One failover step in a lab, as the failover benchmarks (failover.ts, peers/) take it:
// find the node announcing an address, wait for a good reply, start the client's probe,
// fail that node, let the probe finish, heal the node and wait until one node announces
// the address again. Who announces is the caller's question (Herald: the kernel of the
// node holding the address; MetalLB: its ServiceL2Status and the MAC answering ARP), and
// so is how the node fails (a hard failure by default; a planned drain in peers/).
import { setTimeout as sleep } from "node:timers/promises";
import { labFail, labHeal, type LabRef } from "../src/lab/lab.ts";
import type { ProbeSample } from "../src/lab/probe.ts";
import { waitUntil, type LabSession } from "../src/lab/session.ts";

export interface Announcer {
  node: string;
  address: string;
}

export interface FailoverTarget {
  /** The one node announcing the address now, or undefined if none or more than one. */
  announcer(): Promise<Announcer | undefined>;
  /** Whether exactly one node announces `address` (after a heal). */
  settled(address: string): Promise<boolean>;
}

export interface ProbeSettings {
  intervalMs: number;
  timeoutMs: number;
  durationMs: number;
}

export interface StepOptions {
  /** Fails the node once the probe runs; default: the lab's hard failure. */
  fail?: (node: string) => Promise<void>;
  /** Undoes `fail` once the probe is done; default: the lab's heal. */
  heal?: (node: string) => Promise<void>;
  /**
   * How long the announcer must stay the same node before the step starts (a peer that
   * moves an address back after a heal would otherwise move it during the probe); 0: at once.
   */
  stableMs?: number;
  /** How long to wait for an announcer, and for one again after the heal. */
  settleTimeoutMs?: number;
}

export interface StepResult {
  failed: string;
  address: string;
  failedAt: number;
  samples: ProbeSample[];
}

/**
 * Herald's announcer: the one node whose kernel holds the service's address. (Not the
 * annotation: after a heal from a long failure it was seen naming the interim holder for
 * 20 s and more; the kernel is the truth the client meets.)
 */
export function kernelTarget(lab: LabSession, service: string): FailoverTarget {
  return {
    async announcer() {
      const address = (await lab.service(service)).addresses[0];
      if (!address) return undefined;
      const holders = await lab.holders(address);
      return holders.length === 1 ? { node: holders[0]!, address } : undefined;
    },
    settled: async (address) => (await lab.holders(address)).length === 1,
  };
}

/** Waits until `target` names the same announcer for `stableMs`, and returns it. */
export async function stableAnnouncer(
  target: FailoverTarget,
  stableMs: number,
  timeoutMs: number,
): Promise<Announcer> {
  let since = 0;
  let last: Announcer | undefined;
  return waitUntil(
    "an announcing node",
    async () => {
      const now = await target.announcer();
      if (!now || now.node !== last?.node || now.address !== last.address) {
        last = now;
        since = Date.now();
        return stableMs === 0 && now ? now : undefined;
      }
      return Date.now() - since >= stableMs ? now : undefined;
    },
    timeoutMs,
    250,
  );
}

export async function failAnnouncer(
  lab: LabSession,
  ref: LabRef,
  target: FailoverTarget,
  probe: ProbeSettings,
  options: StepOptions = {},
): Promise<StepResult> {
  const settleTimeoutMs = options.settleTimeoutMs ?? 20_000;
  const current = await stableAnnouncer(target, options.stableMs ?? 0, settleTimeoutMs);
  await waitUntil(
    "a good reply",
    async () => (await lab.curl("client", current.address, 1000)) !== "",
    10_000,
  );
  const probing = lab.probe("client", current.address, probe);
  await sleep(500);
  const failedAt = Date.now();
  await (options.fail ?? ((node) => labFail(ref, node, "hard").then(() => {})))(current.node);
  const samples = await probing.result;
  await (options.heal ?? ((node) => labHeal(ref, node).then(() => {})))(current.node);
  // The healed node takes back the addresses it wins; wait until exactly one holds it.
  await waitUntil("one holder", () => target.settled(current.address), settleTimeoutMs);
  await sleep(1500);
  return { failed: current.node, address: current.address, failedAt, samples };
}

/** What a probe saw in the `windowMs` after the failure: requests sent, and failed. */
export function failedInWindow(
  samples: readonly ProbeSample[],
  failedAt: number,
  windowMs: number,
): { requests: number; failed: number } {
  const window = samples.filter((s) => s.sentAt >= failedAt && s.sentAt < failedAt + windowMs);
  return { requests: window.length, failed: window.filter((s) => !s.ok).length };
}
