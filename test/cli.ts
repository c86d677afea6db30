// For the command-line tests: the real `herald` binary run as a user runs it, and a
// scratch directory for the files it reads, removed when the test file ends.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { fileURLToPath } from "node:url";

export const HERALD_BIN = fileURLToPath(new URL("../bin/herald.js", import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `herald ARGS` with Node 22, stdin given; waits for it. */
export function herald(args: readonly string[], stdin?: string): CliRun {
  const result = spawnSync(process.execPath, [HERALD_BIN, ...args], {
    input: stdin,
    encoding: "utf8",
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A scratch directory for this test file; `file` writes into it and returns the path. */
export function scratch(prefix: string): {
  dir: string;
  file: (name: string, text: string) => string;
} {
  const dir = mkdtempSync(join(tmpdir(), `herald-${prefix}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    file: (name, text) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
  };
}
