// `herald lab up --image`: the lab's controller, agents and BIRD sidecars run from Herald's
// image as scripts/image.sh builds it, not from the source tree — each process chrooted
// into the image's rootfs in its node's network namespace. The image's bundle then does
// the work: a Service gets an address, a node announces it, the client's request is
// answered, and an agent restarted from the image takes over again. Needs root and the
// image's Debian layer (built on first use, as test/image_test.ts does).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readlinkSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { labDown, labRestartAgent, labUp } from "../../src/lab/lab.ts";
import { LabSession, waitUntil } from "../../src/lab/session.ts";
import { requireNetworkTier } from "./require.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const ref = { name: `li${process.pid % 100000}` };
const dir = mkdtempSync(join(tmpdir(), "herald-lab-image-"));
let lab: LabSession;
let rootfs = "";

/** The root directory a lab process sees, and its command line. */
function processView(role: string): { root: string; argv: string[] } {
  const pid = Number(readFileSync(join(lab.info.dir, "pids", `${role}.pid`), "utf8"));
  return {
    root: readlinkSync(`/proc/${pid}/root`),
    argv: readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean),
  };
}

describe("the lab running Herald from its image", { concurrency: false }, () => {
  before(async () => {
    requireNetworkTier(["ip", "curl"]);
    const layout = join(dir, "image");
    const printed = execFileSync(join(root, "scripts/image.sh"), [layout], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });
    await labDown(ref);
    const { state } = await labUp({
      ...ref,
      nodes: 2,
      ipv6: false,
      agents: true,
      image: printed.trim().split(" ")[0]!, // LAYOUT:TAG
    });
    lab = LabSession.open(state);
    rootfs = state.image!;
    await lab.applyPool("lan", { addresses: [state.localPool.ipv4], announce: "Local" });
  });
  after(async () => {
    await lab?.close();
    await labDown(ref);
    rmSync(dir, { recursive: true, force: true });
  });

  test("runs the controller, the agents and BIRD inside the image's rootfs", () => {
    for (const role of ["controller", "agent-node1", "agent-node2", "bird-node1"]) {
      const view = processView(role);
      assert.equal(view.root, rootfs, role);
    }
    assert.deepEqual(processView("agent-node1").argv.slice(0, 3), [
      "node",
      "/opt/herald/herald.mjs",
      "agent",
    ]);
  });

  test("announces a Service from the image, and again after an agent restart", async () => {
    await lab.createService("web", {});
    const address = await waitUntil(
      "web's address",
      async () => (await lab.service("web")).addresses[0],
    );
    const holder = await waitUntil("one holder", async () => {
      const holders = await lab.holders(address);
      return holders.length === 1 ? holders[0] : undefined;
    });
    assert.equal(await lab.curl("client", address), holder);
    await labRestartAgent(ref, holder);
    await lab.agentTookOver(holder);
    // Read once it runs (right after the start it may still be on its way into the chroot).
    assert.equal(processView(`agent-${holder}`).root, rootfs);
    assert.equal(await lab.curl("client", address), holder);
  });
});
