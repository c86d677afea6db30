// Whole-process time of `herald plan -o json` on a 10k-service site, against the time of
// `herald --help` (start-up alone), each run several times; prints one JSON object.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { dump } from "js-yaml";
import { mixedSite } from "./workload.ts";

const count = Number(process.argv[2] ?? 10_000);
const runs = Number(process.argv[3] ?? 7);
const bin = fileURLToPath(new URL("../bin/herald.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "herald-bench-"));
try {
  const site = mixedSite(count);
  const file = join(dir, "site.yaml");
  writeFileSync(
    file,
    [...site.pools, ...site.services].map((object) => dump(object)).join("---\n"),
  );

  const time = (args: string[]) => {
    const walls: number[] = [];
    for (let i = 0; i <= runs; i++) {
      const start = performance.now();
      const result = spawnSync(process.execPath, [bin, ...args], {
        encoding: "utf8",
        maxBuffer: 1 << 30,
      });
      const wall = performance.now() - start;
      if (result.status !== 0) throw new Error(`herald ${args.join(" ")} failed: ${result.stderr}`);
      if (i > 0) walls.push(wall); // the first run warms the page cache
    }
    walls.sort((a, b) => a - b);
    return {
      medianMillis: walls[walls.length >> 1]!,
      minMillis: walls[0]!,
      maxMillis: walls.at(-1)!,
      runs,
    };
  };

  const plan = time(["plan", "-f", file, "-o", "json"]);
  const startup = time(["--help"]);
  process.stdout.write(
    JSON.stringify({
      services: count,
      plan,
      startup,
      planMinusStartupMillis: plan.medianMillis - startup.medianMillis,
    }) + "\n",
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
