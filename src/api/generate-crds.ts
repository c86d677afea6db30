// Writes deploy/crds/*.yaml from src/api. Run from anywhere: paths are the repository's.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { crdFiles } from "./crds.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

for (const file of crdFiles()) {
  const path = join(root, file.path);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, file.text);
  console.log(`wrote ${file.path}`);
}
