// The house rules of src/, checked on the import graph esbuild reads from the program's
// entry points: every source file there is part of what ships — test support lives in
// test/, benchmark tools in bench/ — and imports run only down the floors DESIGN §7 names: the pure floors
// (the IP library, the clock, ipam, the schema engine, the API types) know nothing of
// Kubernetes clients, the agent, the controller, devkube, the lab or the command line.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { build, type Metafile } from "esbuild";

const root = fileURLToPath(new URL("../", import.meta.url));

/** The programs src/ holds: each is run by itself, everything else is imported. */
const ENTRY_POINTS = [
  "src/cli/main.ts", // herald
  "src/cli/runtime.ts", // the image's program (scripts/bundle.ts)
  "src/api/generate-crds.ts", // writes deploy/crds
  "src/lab/gobgp-fib.ts", // the lab router's FIB installer, a process of its own
] as const;

let graph: Metafile;
before(async () => {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [...ENTRY_POINTS],
    bundle: true,
    platform: "node",
    format: "esm",
    packages: "external",
    write: false,
    metafile: true,
    logLevel: "silent",
    outdir: "out",
  });
  graph = result.metafile;
});

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts") ? [path] : [];
  });
}

/** The floor a source file is on: its folder under src/, or the file itself at the top. */
function floorOf(path: string): string {
  const parts = relative("src", path).split("/");
  return parts.length === 1 ? parts[0]!.replace(/\.ts$/, "") : parts[0]!;
}

/** What each floor may import besides itself. */
const ALLOWED: Record<string, readonly string[]> = {
  ip: [],
  clock: [],
  log: [],
  ipam: ["ip", "api"],
  schema: ["ip"],
  api: ["ip", "schema"],
};

describe("src layout", () => {
  it("holds only what ships: every file is reached from an entry point", () => {
    const reached = new Set(Object.keys(graph.inputs));
    const unreached = sourceFiles("src").filter((path) => !reached.has(path));
    assert.deepEqual(unreached, [], "test support belongs in test/, dead code nowhere");
  });

  it("imports run down the floors: the pure ones import no client, agent or server", () => {
    const wrong: string[] = [];
    for (const [path, input] of Object.entries(graph.inputs)) {
      if (!path.startsWith("src/")) continue;
      const floor = floorOf(path);
      const allowed = ALLOWED[floor];
      for (const imported of input.imports) {
        if (imported.external || !imported.path.startsWith("src/")) {
          if (imported.path.startsWith("test/")) wrong.push(`${path} -> ${imported.path}`);
          continue;
        }
        const target = floorOf(imported.path);
        if (allowed !== undefined && target !== floor && !allowed.includes(target))
          wrong.push(`${path} -> ${imported.path}`);
        if (floor !== "devkube" && floor !== "lab" && floor !== "cli" && target === "devkube")
          wrong.push(`${path} -> ${imported.path}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it("has no import cycles", () => {
    const imports = new Map(
      Object.entries(graph.inputs).map(([path, input]) => [
        path,
        input.imports.filter((i) => !i.external && i.path.startsWith("src/")).map((i) => i.path),
      ]),
    );
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (path: string, trail: string[]) => {
      if (state.get(path) === "done") return;
      if (state.get(path) === "open") {
        cycles.push([...trail.slice(trail.indexOf(path)), path].join(" -> "));
        return;
      }
      state.set(path, "open");
      for (const next of imports.get(path) ?? []) visit(next, [...trail, path]);
      state.set(path, "done");
    };
    for (const path of imports.keys()) visit(path, []);
    assert.deepEqual(cycles, []);
  });
});
