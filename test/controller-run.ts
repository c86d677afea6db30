// Runs the allocation controller against a test cluster for the length of a test body,
// with a short lease so that it leads within a fraction of a second.
import type { TestCluster } from "./cluster.ts";
import { AllocationController } from "../src/controller/controller.ts";
import { createLogger } from "../src/log.ts";

export async function withController(
  cluster: TestCluster,
  options: { namespace: string; identity: string },
  body: () => Promise<unknown>,
): Promise<void> {
  const controller = new AllocationController({
    config: cluster.config,
    ...options,
    log: createLogger("silent"),
    lease: { durationMs: 900, renewDeadlineMs: 600, retryPeriodMs: 150 },
  });
  const abort = new AbortController();
  const done = controller.run(abort.signal);
  try {
    await body();
  } finally {
    abort.abort();
    await done;
  }
}
