#!/usr/bin/env node
// Runs the TypeScript sources directly: Node 22.18+ strips types on load, so a fresh clone
// needs no build step. The `node@22` dev dependency puts such a Node first on npm's PATH.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `herald needs Node.js 22.18 or newer (this is ${process.versions.node}); ` +
      "run it through npx or npm so the bundled Node 22 is used.\n",
  );
  process.exit(1);
}
await import("../src/cli/main.ts");
