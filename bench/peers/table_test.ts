import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import {
  BEGIN,
  END,
  formatMarkdown,
  peersBlock,
  peersTable,
  ratio,
  replaceBlock,
  updateComparison,
  type PeersResult,
} from "./table.ts";

const side = (firstGood: number, failed: number, drained: number, burstMs: number) => ({
  failover: {
    trials: 5,
    recovered: 5,
    firstGoodReplyMs: { median: firstGood, max: firstGood + 50 },
    failedIn30s: { median: failed, max: failed + 10 },
  },
  drain: { trials: 3, failed: { median: drained, max: drained } },
  burst: {
    createdMs: 3000,
    allAddressedMs: burstMs,
    window: { herald: windowSide(), metallb: windowSide() },
  },
});
function windowSide() {
  return {
    controllerRequestsPerSecond: 12.5,
    agentRequestsPerSecond: 0.4,
    controller: { cpuPercent: 40, rssMiB: 120.3 },
    agentPerNode: { cpuPercentMedian: 2.5, rssMiBMedian: 80 },
  };
}
const result: PeersResult = {
  date: "2026-12-04T07:00:00.000Z",
  nodes: 3,
  settings: { trials: 5, drainTrials: 3, services: 1000 },
  versions: { metallb: "v0.15.2", kubeVip: "refused v1.2.0: 403 Forbidden" },
  machineLoad: { note: "2 cores shared" },
  herald: side(819, 0, 0, 4800),
  metallb: side(5578.4, 351, 12, 13_700),
  api: { atRest: { herald: windowSide(), metallb: windowSide() } },
};

test("ratio is Herald over MetalLB to two significant figures", () => {
  assert.equal(ratio(819, 5578), "0.15");
  assert.equal(ratio(4800, 13_700), "0.35");
  assert.equal(ratio(0, 351), "0");
  assert.equal(ratio(0, 0), "1");
  assert.equal(ratio(3, 0), "—");
  assert.equal(ratio(null, 5), "—");
});

test("the table has a row per measure with both figures and the ratio", () => {
  const table = peersTable(result);
  const lines = table.split("\n");
  assert.equal(lines[0], "|  | Herald | MetalLB v0.15.2 | Herald / MetalLB |");
  assert.equal(lines.length, 2 + 13);
  assert.ok(
    lines.includes(
      "| hard node failure → first good reply at the client, median (max), 5 trials | 819 ms (max 869 ms) | 5,578 ms (max 5,628 ms) | 0.15 |",
    ),
  );
  assert.ok(
    lines.includes(
      "| 1,000 services created at once → all have addresses | 4.8 s (creates took 3.0 s) | 13.7 s (creates took 3.0 s) | 0.35 |",
    ),
  );
});

test("the block names its source, kube-vip's outcome and the command to reproduce it", () => {
  const block = peersBlock(result);
  assert.ok(block.startsWith(BEGIN) && block.endsWith(END));
  assert.match(block, /npm run bench -- peers/);
  assert.match(block, /kube-vip is not in the table: refused v1\.2\.0/);
});

test("the block replaces what is between the markers, and is appended when they are absent", () => {
  const document = `# Title\n\nbefore\n\n${BEGIN}\nold\n${END}\n\nafter\n`;
  assert.equal(
    replaceBlock(document, `${BEGIN}\nnew\n${END}`),
    `# Title\n\nbefore\n\n${BEGIN}\nnew\n${END}\n\nafter\n`,
  );
  assert.equal(replaceBlock("# Title\n", "X"), "# Title\n\nX\n");
});

test("the written page is as prettier --check wants it, and a second update changes nothing", async () => {
  const dir = await mkdtemp(join(tmpdir(), "peers-table-"));
  const results = join(dir, "peers.json");
  // In the docs directory's place, so that the repository's Prettier settings apply.
  const page = fileURLToPath(new URL("../../docs/.peers-table-test.md", import.meta.url));
  await writeFile(results, JSON.stringify(result));
  await writeFile(page, "# Comparison\n\nSome text.\n");
  try {
    await updateComparison(results, page);
    const once = await readFile(page, "utf8");
    assert.equal(await formatMarkdown(once, page), once);
    await updateComparison(results, page);
    assert.equal(await readFile(page, "utf8"), once);
    assert.match(once, /^\| -{3,} \| -{3,} \|/m);
  } finally {
    const { rm } = await import("node:fs/promises");
    await rm(page, { force: true });
    await rm(dir, { recursive: true, force: true });
  }
});
