// One allocation scenario, run in a process of its own (so peak memory is the scenario's):
//   node --expose-gc bench/allocate.ts mixed|ipv6-64|ipv6-112 [count]
// Prints one JSON object: time per allocation (median, p99, max) and memory.
import { Allocator } from "../src/ipam/allocator.ts";
import { compilePool, type Pool } from "../src/ipam/pool.ts";
import { PoolSet } from "../src/ipam/pool-set.ts";
import { readService } from "../src/ipam/request.ts";
import { ipv6Site, mixedSite, type Workload } from "./workload.ts";

const [scenario = "mixed", countText] = process.argv.slice(2);
const count = Number(countText ?? (scenario === "mixed" ? 100_000 : 50_000));
const site: Workload =
  scenario === "mixed" ? mixedSite(count) : ipv6Site(count, scenario === "ipv6-112" ? 112 : 64);

const pools = site.pools.map((object) => {
  const compiled = compilePool(object);
  if (compiled.problems) throw new Error(compiled.problems.join("; "));
  return compiled.pool as Pool;
});
const requests = site.services.map((service) => readService(service));
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const heapBefore = process.memoryUsage().heapUsed;

const allocator = new Allocator(new PoolSet(pools));
const nanos = new Float64Array(requests.length);
let allocated = 0;
let failed = 0;
for (let i = 0; i < requests.length; i++) {
  const start = process.hrtime.bigint();
  const outcome = allocator.assign(requests[i]!);
  nanos[i] = Number(process.hrtime.bigint() - start);
  if (outcome.failure) failed++;
  else allocated++;
}

gc?.();
const heapAfter = process.memoryUsage().heapUsed;
// Top-level variables nothing reads later are dead to V8; read them so that the heap
// measured above still holds the allocator and the requests.
if (allocator.holdings(requests[0]!.key).length < 0 || site.services.length !== count)
  throw new Error();
const sorted = [...nanos].sort((a, b) => a - b);
const at = (q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! / 1000;
process.stdout.write(
  JSON.stringify({
    scenario,
    services: count,
    allocated,
    failed,
    perAllocationMicros: {
      median: at(0.5),
      p90: at(0.9),
      p99: at(0.99),
      max: sorted.at(-1)! / 1000,
    },
    totalMillis: nanos.reduce((a, b) => a + b, 0) / 1e6,
    allocatorHeapMiB: (heapAfter - heapBefore) / 2 ** 20,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  }) + "\n",
);
