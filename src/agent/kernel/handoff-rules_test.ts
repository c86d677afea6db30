// The handover rules on the real kernel: a client, an old holder and a new holder of an
// address on one bridge. A TCP stream open on the old holder when the new one announces
// the address is reset without the rules and runs to its end with them. Needs root,
// iproute2, arping and nftables; without them these tests fail and say what is missing.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { handoffRuleset, NO_HANDOFF_RULES, type HandoffRules } from "./handoff-rules.ts";
import { IpCommandKernel } from "./ip-kernel.ts";

const execFileAsync = promisify(execFile);
const id = randomBytes(3).toString("hex");
const ns = (role: string) => `hho-${id}-${role}`;
const CLIENT = ns("c");
const OLD = ns("o");
const NEW = ns("n");
// A node that also holds the address but not the connection (routed mode's other nodes).
const THIRD = ns("t");
const PORT = 8080;
const TIMEOUT = { timeout: 60_000 };
const HOST = { [OLD]: "1", [NEW]: "2", [THIRD]: "3", [CLIENT]: "254" } as const;
const NO_RULES = NO_HANDOFF_RULES;
const rules = (changes: Partial<HandoffRules>): HandoffRules => ({ ...NO_RULES, ...changes });
const V4 = "198.18.210.100";
const V6 = "2001:db8:210::100";

async function run(...command: string[]): Promise<string> {
  const [file = "", ...args] = command;
  const { stdout } = await execFileAsync(file, args, { encoding: "utf8" });
  return stdout;
}
const inNs = (name: string, ...command: string[]) => run("ip", "netns", "exec", name, ...command);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// A server that streams 20 lines, one every 100 ms, each naming the namespace it runs in.
const STREAMER = `
const http = require("node:http");
http.createServer((request, response) => {
  response.writeHead(200);
  let line = 0;
  const timer = setInterval(() => {
    response.write(process.argv[1] + " " + line + "\\n");
    if (++line === 20) { clearInterval(timer); response.end(); }
  }, 100);
}).listen(${PORT}, "::");`;

// A client that connects, says nothing for a second, then asks for the stream: its first
// segment after the handshake is its own, as a short request's is.
const LATE_CLIENT = `
const net = require("node:net");
const socket = net.connect({ host: process.argv[1], port: ${PORT} }, () =>
  setTimeout(() => socket.write("GET / HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"), 1000),
);
let body = "";
socket.on("data", (chunk) => (body += chunk));
socket.on("error", (error) => { console.log(error.code); process.exit(2); });
socket.on("close", () => { console.log(body); process.exit(0); });`;

/** Runs `argv` in the client namespace; how it exited and the stream lines it printed. */
function inClient(argv: readonly string[]): Promise<{ exitCode: number; lines: string[] }> {
  return new Promise((resolve) => {
    const child = spawn("ip", ["netns", "exec", CLIENT, ...argv]);
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.on("exit", (code) =>
      resolve({
        exitCode: code ?? -1,
        // The streamer's lines ("<namespace> <n>"); LATE_CLIENT prints the chunked body too.
        lines: stdout.split(/\r?\n/).filter((l) => /^hho-\S+ \d+$/.test(l)),
      }),
    );
  });
}

/** Connects now and asks a second later (LATE_CLIENT). */
const lateRequest = (address: string) => inClient([process.execPath, "-e", LATE_CLIENT, address]);

/** Starts a stream from the client with curl. */
function stream(address: string) {
  const url = address.includes(":") ? `http://[${address}]:${PORT}/` : `http://${address}:${PORT}/`;
  return inClient(["curl", "-sS", "-m", "10", url]);
}

describe("handoffRuleset", () => {
  it("replaces the herald tables whole, keeps conntrack on, and deletes them only when told", () => {
    const deletes = [
      "table ip herald {}",
      "delete table ip herald",
      "table ip6 herald {}",
      "delete table ip6 herald",
      "table arp herald {}",
      "delete table arp herald",
    ];
    assert.equal(handoffRuleset(undefined), [...deletes, ""].join("\n"));
    // Nothing handed over: still the rules that track connections and drop marked copies.
    const idle = handoffRuleset(NO_RULES);
    assert.ok(idle.startsWith(deletes.join("\n")), idle);
    for (const family of ["ip", "ip6"]) {
      assert.match(idle, new RegExp(`table ${family} herald \\{\\n {2}chain prerouting`));
      assert.match(
        idle,
        new RegExp(
          `ct state established,related accept\\n {4}fib daddr type local ${family} dscp 3 tcp flags & syn == 0 ct state new drop`,
        ),
      );
    }
    assert.doesNotMatch(idle, /table arp herald \{\n/);
    const script = handoffRuleset({
      forwards: [
        { address: V4, from: "eth0", to: [{ via: "198.18.210.1", device: "eth0" }] },
        {
          address: "203.0.113.7",
          to: [
            { via: "198.18.211.1", device: "eth1" },
            { via: "198.18.211.2", device: "eth1" },
          ],
        },
      ],
      silenced: [{ address: V6, interface: "eth0.100" }],
    });
    assert.match(
      script,
      /iifname "eth0" ip daddr 198\.18\.210\.100 tcp flags & syn == 0 ct state new dup to 198\.18\.210\.1 device "eth0" drop/,
    );
    assert.match(
      script,
      /\n {4}ip daddr 203\.0\.113\.7 tcp flags & syn == 0 ct state new ip dscp set 3 dup to 198\.18\.211\.1 device "eth1" dup to 198\.18\.211\.2 device "eth1" drop/,
    );
    // Marked copies are dropped before anything could pass them on again.
    const quiet = script.indexOf(
      "fib daddr type local ip dscp 3 tcp flags & syn == 0 ct state new drop",
    );
    assert.ok(quiet > 0 && quiet < script.indexOf("dscp set"), script);
    assert.match(
      script,
      /oifname "eth0\.100" ip6 saddr 2001:db8:210::100 icmpv6 type nd-neighbor-advert drop/,
    );
    assert.doesNotMatch(
      script,
      /table arp herald \{\n/,
      "no ARP table without an IPv4 address to silence",
    );
    assert.throws(
      () => handoffRuleset(rules({ silenced: [{ address: V4, interface: 'eth0" drop; "' }] })),
      /unusable interface name/,
    );
  });
});

describe("handover rules on the real kernel (needs root, nftables)", () => {
  const oldKernel = new IpCommandKernel({ netns: OLD });
  const newKernel = new IpCommandKernel({ netns: NEW });
  const thirdKernel = new IpCommandKernel({ netns: THIRD });
  const servers: ReturnType<typeof spawn>[] = [];

  before(async () => {
    if (process.getuid?.() !== 0)
      throw new Error("these tests need root: they create network namespaces");
    await run("nft", "--version").catch((error: unknown) => {
      throw new Error(
        `nft is not installed; these tests need it: apt-get install nftables (${error})`,
      );
    });
    for (const name of [CLIENT, OLD, NEW, THIRD]) {
      await run("ip", "netns", "add", name);
      await inNs(name, "ip", "link", "set", "lo", "up");
    }
    await inNs(CLIENT, "ip", "link", "add", "br0", "type", "bridge");
    await inNs(CLIENT, "ip", "link", "set", "br0", "up");
    await inNs(CLIENT, "ip", "addr", "add", "198.18.210.254/24", "dev", "br0");
    await inNs(CLIENT, "ip", "addr", "add", "2001:db8:210::254/64", "dev", "br0", "nodad");
    for (const name of [OLD, NEW, THIRD]) {
      const port = `hho${HOST[name]}${id}`;
      await run(
        "ip",
        "link",
        "add",
        port,
        "netns",
        CLIENT,
        "type",
        "veth",
        "peer",
        "eth0",
        "netns",
        name,
      );
      await inNs(CLIENT, "ip", "link", "set", port, "master", "br0", "up");
      await inNs(name, "ip", "link", "set", "eth0", "up");
      await inNs(name, "ip", "addr", "add", `198.18.210.${HOST[name]}/24`, "dev", "eth0");
      await inNs(
        name,
        "ip",
        "addr",
        "add",
        `2001:db8:210::${HOST[name]}/64`,
        "dev",
        "eth0",
        "nodad",
      );
      // As the agent sets them (sysctl.ts): both hold the address during a handover.
      await inNs(
        name,
        "sysctl",
        "-q",
        "-w",
        "net.ipv4.conf.all.arp_ignore=1",
        "net.ipv4.conf.all.arp_announce=2",
      );
      const server = spawn("ip", ["netns", "exec", name, process.execPath, "-e", STREAMER, name], {
        stdio: "ignore",
      });
      servers.push(server);
    }
    await sleep(500);
  });

  after(async () => {
    for (const server of servers) server.kill();
    for (const name of [CLIENT, OLD, NEW, THIRD])
      await run("ip", "netns", "del", name).catch(() => {});
  });

  const viaOf = (name: string, address: string) =>
    address.includes(":") ? `2001:db8:210::${HOST[name]}` : `198.18.210.${HOST[name]}`;

  /**
   * The old holder has the address; a stream starts; the new one takes it over mid-stream
   * with `newRules`. With `third`, a third node holds the address too, as another routed
   * node would (on `lo`: it answers no neighbour for it), with `third.rules` (undefined:
   * no herald tables at all).
   */
  async function handover(
    address: string,
    newRules: HandoffRules | undefined,
    third?: { rules: HandoffRules | undefined },
  ) {
    const prefix = address.includes(":") ? 128 : 32;
    for (const kernel of [oldKernel, newKernel, thirdKernel]) {
      await kernel.removeAddress("eth0", address, prefix);
      await kernel.removeAddress("lo", address, prefix);
    }
    await inNs(CLIENT, "ip", "neigh", "flush", "dev", "br0");
    await oldKernel.addAddress("eth0", address, prefix);
    const running = stream(address);
    // Past the client's neighbour entry's lock time (1 s), when an announcement counts.
    await sleep(1200);
    await newKernel.addAddress("eth0", address, prefix);
    if (third) {
      await thirdKernel.setHandoffRules(third.rules);
      await thirdKernel.addAddress("lo", address, prefix);
    }
    if (newRules) {
      await newKernel.setHandoffRules(newRules);
      await oldKernel.setHandoffRules(rules({ silenced: [{ address, interface: "eth0" }] }));
    }
    // The new holder solicits the neighbours it knows from an IPv6 address (announce.ts):
    // let it know the client, from its own address (from the moved one, the client would
    // learn the move here already).
    if (address.includes(":"))
      await inNs(NEW, "ping", "-c", "1", "-W", "2", "-I", viaOf(NEW, address), "2001:db8:210::254");
    const announcement = await newKernel.announce("eth0", address, { count: 1, intervalMs: 1000 });
    await announcement.done;
    const result = await running;
    const after = await stream(address);
    for (const kernel of [oldKernel, newKernel, thirdKernel])
      await kernel.setHandoffRules(NO_RULES);
    await thirdKernel.removeAddress("lo", address, prefix);
    return { result, after };
  }

  const toOld = (address: string): HandoffRules =>
    rules({
      forwards: [{ address, from: "eth0", to: [{ via: viaOf(OLD, address), device: "eth0" }] }],
    });

  it("without the rules, the stream open at the handover is reset", TIMEOUT, async () => {
    const { result, after } = await handover(V4, undefined);
    assert.notEqual(result.exitCode, 0, `the stream ran to its end: ${result.lines.join(", ")}`);
    assert.ok(result.lines.length < 20);
    assert.equal(after.lines[0], `${NEW} 0`, "the new holder took the address");
  });

  it("with them, it finishes on the old holder while new ones go to the new", TIMEOUT, async () => {
    for (const address of [V4, V6]) {
      const { result, after } = await handover(address, toOld(address));
      assert.equal(
        result.exitCode,
        0,
        `${address}: curl exited ${result.exitCode}: ${result.lines.join(" | ")}`,
      );
      assert.deepEqual(
        result.lines,
        Array.from({ length: 20 }, (_, i) => `${OLD} ${i}`),
      );
      assert.equal(after.exitCode, 0);
      assert.equal(after.lines[0], `${NEW} 0`, `${address}: the new holder took the address`);
    }
    // Replaced whole and removed whole: nothing left behind.
    for (const kernel of [oldKernel, newKernel]) await kernel.setHandoffRules(undefined);
    for (const name of [OLD, NEW])
      assert.equal((await inNs(name, "nft", "list", "tables")).trim(), "");
  });

  it(
    "marked copies to several nodes: the one with the connection carries on, the others stay quiet",
    TIMEOUT,
    async () => {
      // The third node first: were it to answer its copy with a reset, the stream would end.
      const marked = (address: string): HandoffRules =>
        rules({
          forwards: [
            {
              address,
              to: [
                { via: viaOf(THIRD, address), device: "eth0" },
                { via: viaOf(OLD, address), device: "eth0" },
              ],
            },
          ],
        });
      const loud = await handover(V4, marked(V4), { rules: undefined });
      assert.notEqual(loud.result.exitCode, 0, "the third node did not reset its copy: no test");
      for (const address of [V4, V6]) {
        const { result } = await handover(address, marked(address), { rules: NO_RULES });
        assert.equal(result.exitCode, 0, `${address}: ${result.lines.join(" | ")}`);
        assert.deepEqual(
          result.lines,
          Array.from({ length: 20 }, (_, i) => `${OLD} ${i}`),
        );
      }
    },
  );

  it(
    "a connection a node has when its first handoff begins stays its own: conntrack was on",
    TIMEOUT,
    async () => {
      // The new holder has a connection; then it begins passing the address's orphans to
      // the old holder, which holds the address too (as a leaving routed node does); then
      // the client speaks first on it.
      const ownStream = async (address: string, before: HandoffRules | undefined) => {
        const prefix = address.includes(":") ? 128 : 32;
        for (const kernel of [oldKernel, newKernel, thirdKernel]) {
          await kernel.setHandoffRules(undefined);
          await kernel.removeAddress("eth0", address, prefix);
        }
        await inNs(CLIENT, "ip", "neigh", "flush", "dev", "br0");
        await newKernel.addAddress("eth0", address, prefix);
        await oldKernel.addAddress("lo", address, prefix);
        try {
          if (before) await newKernel.setHandoffRules(before);
          const running = lateRequest(address);
          await sleep(500);
          await newKernel.setHandoffRules(toOld(address));
          return await running;
        } finally {
          await newKernel.setHandoffRules(undefined);
          await newKernel.removeAddress("eth0", address, prefix);
          await oldKernel.removeAddress("lo", address, prefix);
        }
      };
      // No herald tables before (conntrack off here): the node's own segments look like
      // orphans, and the old holder resets the connection.
      const untracked = await ownStream(V4, undefined);
      assert.notEqual(untracked.exitCode, 0, `not reset: ${untracked.lines.join(" | ")}`);
      for (const address of [V4, V6]) {
        const result = await ownStream(address, NO_RULES);
        assert.equal(result.exitCode, 0, `${address}: ${result.lines.join(" | ")}`);
        assert.deepEqual(
          result.lines,
          Array.from({ length: 20 }, (_, i) => `${NEW} ${i}`),
        );
      }
    },
  );

  it("a silenced address answers no ARP request or neighbour solicitation", TIMEOUT, async () => {
    await newKernel.removeAddress("eth0", V4, 32);
    await newKernel.removeAddress("eth0", V6, 128);
    await oldKernel.addAddress("eth0", V4, 32);
    await oldKernel.addAddress("eth0", V6, 128);
    const answered = async (address: string) => {
      await inNs(CLIENT, "ip", "neigh", "flush", "dev", "br0");
      return inNs(CLIENT, "ping", "-c", "1", "-W", "1", address).then(
        () => true,
        () => false,
      );
    };
    try {
      assert.ok(await answered(V4));
      assert.ok(await answered(V6));
      await oldKernel.setHandoffRules(
        rules({
          silenced: [
            { address: V4, interface: "eth0" },
            { address: V6, interface: "eth0" },
          ],
        }),
      );
      assert.equal(await answered(V4), false, "answered ARP while silenced");
      assert.equal(await answered(V6), false, "answered NS while silenced");
    } finally {
      await oldKernel.setHandoffRules(NO_RULES);
      await oldKernel.removeAddress("eth0", V4, 32);
      await oldKernel.removeAddress("eth0", V6, 128);
    }
  });
});
