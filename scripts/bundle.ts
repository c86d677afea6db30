// Bundles the image's program — src/cli/runtime.ts: the controller and the agent, nothing
// else — into one ES module, dist/herald.mjs (deploy/image, deploy/Dockerfile): the image
// then needs Node and that file — no node_modules, no TypeScript at run time. Run with
// `npm run build` (Node 22 from the node@22 package); `node scripts/bundle.ts OUTFILE`
// writes elsewhere (the tests bundle into a temporary directory, away from node_modules, so
// that nothing unbundled can be found by accident). Beside the bundle it writes
// OUTFILE.meta.json, esbuild's metafile: every source file that went in, which the tests
// check for devkube, the lab and test code.
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outfile =
  process.argv[2] === undefined ? join(root, "dist", "herald.mjs") : resolve(process.argv[2]);

const { version } = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as {
  version: string;
};

// daemons.ts reads package.json beside the sources at run time for --version; beside the
// bundle there is none, so that one read becomes the text it would have read. If it stops
// reading it this way (a JSON import, which esbuild inlines by itself), the plugin changes
// nothing.
const PACKAGE_JSON_READ = 'readFileSync(new URL("../../package.json", import.meta.url), "utf8")';
const inlineVersion: Plugin = {
  name: "herald-inline-version",
  setup(bundle) {
    bundle.onLoad({ filter: /[\\/]src[\\/]cli[\\/]daemons\.ts$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      return {
        contents: source.replace(PACKAGE_JSON_READ, JSON.stringify(JSON.stringify({ version }))),
        loader: "ts",
      };
    });
  },
};

const result = await build({
  absWorkingDir: root,
  entryPoints: ["src/cli/runtime.ts"],
  outfile,
  bundle: true,
  platform: "node",
  target: "node22",
  format: "esm",
  // Some dependencies are CommonJS and require() Node's built-ins, which an ES module
  // has no require for; give the bundle one.
  banner: {
    js: 'import { createRequire as heraldCreateRequire } from "node:module";\nconst require = heraldCreateRequire(import.meta.url);',
  },
  minify: true,
  // Class and function names stay readable in logs and stack traces.
  keepNames: true,
  legalComments: "linked",
  plugins: [inlineVersion],
  metafile: true,
  logLevel: "warning",
});
await writeFile(`${outfile}.meta.json`, JSON.stringify(result.metafile));
process.stdout.write(`wrote ${relative(process.cwd(), outfile)}\n`);
