// IpCommandKernel against the real kernel: two network namespaces joined by a veth pair,
// node "a" (where the agent acts) and neighbour "b" (which must learn about it). Needs root,
// iproute2, arping, ndisc6 and tcpdump; without them these tests fail and say what is missing.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { chooseInterface } from "./choose.ts";
import { OWNED_ADDRESS_METRIC } from "./interfaces.ts";
import { IpCommandKernel } from "./ip-kernel.ts";
import { applyAddressChanges } from "./kernel.ts";
import { planAddressChanges, type AddressAssignment } from "./plan.ts";

const execFileAsync = promisify(execFile);

const id = randomBytes(3).toString("hex");
const A = `hlk-${id}-a`;
const B = `hlk-${id}-b`;
const A_IF = "vha";
const B_IF = "vhb";
const WRONG_MAC = "02:00:00:00:00:01";
const TIMEOUT = { timeout: 30_000 };

async function run(...command: string[]): Promise<string> {
  const [file = "", ...args] = command;
  const { stdout } = await execFileAsync(file, args, { encoding: "utf8" });
  return stdout;
}

const inA = (...command: string[]) => run("ip", "netns", "exec", A, ...command);
const inB = (...command: string[]) => run("ip", "netns", "exec", B, ...command);

async function requireTool(file: string, args: string[], install: string): Promise<void> {
  try {
    await execFileAsync(file, args);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Error(`${file} is not installed; these tests need it: apt-get install ${install}`, {
        cause: error,
      });
    }
    // Ran and complained about the arguments: installed, which is all we ask here.
  }
}

/** The MAC address `b` has for `address`, or undefined. */
async function neighbourInB(address: string): Promise<string | undefined> {
  const entries = JSON.parse(await inB("ip", "-j", "neigh", "show", address, "dev", B_IF)) as {
    lladdr?: string;
  }[];
  return entries[0]?.lladdr;
}

/** Starts tcpdump in `b`; `stop()` ends it and returns the packets it printed. */
async function captureInB(filter: string): Promise<{ stop: () => Promise<string[]> }> {
  const child = spawn(
    "ip",
    ["netns", "exec", B, "tcpdump", "-i", B_IF, "-n", "-t", "-l", "-e", ...filter.split(" ")],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  // tcpdump says "listening on" once its filter is attached; packets before that are lost.
  await new Promise<void>((resolve, reject) => {
    let stderr = "";
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${stderr}`)), 10_000);
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes("listening on")) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return {
    stop: async () => {
      await new Promise((resolve) => setTimeout(resolve, 300)); // let the last packet land
      child.kill("SIGINT");
      await exited;
      return stdout.split("\n").filter((line) => line.trim() !== "");
    },
  };
}

describe("IpCommandKernel in network namespaces (needs root)", () => {
  const kernel = new IpCommandKernel({ netns: A });
  let macA = "";

  before(async () => {
    if (process.getuid?.() !== 0) {
      throw new Error(
        "these tests need root: they create network namespaces and veth pairs (run as root)",
      );
    }
    try {
      await run("ip", "netns", "list");
    } catch (error) {
      throw new Error(`"ip netns" is not available (iproute2 with netns support): ${error}`, {
        cause: error,
      });
    }
    await requireTool("arping", ["--help"], "arping");
    await requireTool("ndisc6", ["-V"], "ndisc6");
    await requireTool("tcpdump", ["--version"], "tcpdump");

    await run("ip", "netns", "add", A);
    await run("ip", "netns", "add", B);
    await run("ip", "link", "add", A_IF, "netns", A, "type", "veth", "peer", B_IF, "netns", B);
    for (const [ns, iface, last] of [
      [A, A_IF, "1"],
      [B, B_IF, "2"],
    ] as const) {
      // Fresh namespaces take kernel defaults; pin the ones these tests reason about.
      for (const key of ["arp_ignore", "arp_announce"]) {
        await run("ip", "netns", "exec", ns, "sysctl", "-q", "-w", `net.ipv4.conf.all.${key}=0`);
      }
      await run(
        "ip",
        "netns",
        "exec",
        ns,
        "sysctl",
        "-q",
        "-w",
        "net.ipv6.conf.all.ndisc_notify=0",
      );
      await run("ip", "-n", ns, "link", "set", "lo", "up");
      await run("ip", "-n", ns, "addr", "add", `198.18.200.${last}/24`, "dev", iface);
      await run("ip", "-n", ns, "addr", "add", `fd48:6b::${last}/64`, "dev", iface, "nodad");
      await run("ip", "-n", ns, "link", "set", iface, "up");
    }
    // b accepts gratuitous ARP for addresses it has no entry for (the entries these tests
    // make exist already; this is what a router configured for failover would have).
    await inB("sysctl", "-q", "-w", "net.ipv4.conf.all.arp_accept=1");
    const [link] = JSON.parse(await run("ip", "-n", A, "-j", "link", "show", A_IF)) as {
      address: string;
    }[];
    macA = link?.address ?? "";
  });

  after(async () => {
    for (const ns of [A, B]) {
      await run("ip", "netns", "del", ns).catch(() => undefined);
    }
  });

  it("lists interfaces: name, index, kind, mac, up, loopback", TIMEOUT, async () => {
    const interfaces = await kernel.listInterfaces();
    const lo = interfaces.find((i) => i.name === "lo");
    const veth = interfaces.find((i) => i.name === A_IF);
    assert.equal(lo?.loopback, true);
    assert.equal(veth?.kind, "veth");
    assert.equal(veth?.mac, macA);
    assert.equal(veth?.up, true);
    assert.equal(veth?.mtu, 1500);
    assert.deepEqual(
      veth?.addresses.filter((a) => a.address !== "fe80::" && !a.address.startsWith("fe80:")),
      [
        {
          address: "198.18.200.1",
          family: "IPv4",
          prefixLength: 24,
          owned: false,
          noprefixroute: false,
        },
        {
          address: "fd48:6b::1",
          family: "IPv6",
          prefixLength: 64,
          owned: false,
          noprefixroute: false,
        },
      ],
    );
  });

  it(
    "adds owned addresses that ip shows with the marker and no prefix route",
    TIMEOUT,
    async () => {
      await kernel.addAddress(A_IF, "198.18.200.10", 32);
      await kernel.addAddress(A_IF, "fd48:6b:0::10", 128);
      const veth = (await kernel.listInterfaces()).find((i) => i.name === A_IF);
      const owned = veth?.addresses
        .filter((a) => a.owned)
        .map((a) => `${a.address}/${a.prefixLength}`);
      assert.deepEqual(owned, ["198.18.200.10/32", "fd48:6b::10/128"]);

      const raw = JSON.parse(await run("ip", "-n", A, "-j", "addr", "show", "dev", A_IF)) as {
        addr_info: Record<string, unknown>[];
      }[];
      const v6 = raw[0]?.addr_info.find((a) => a["local"] === "fd48:6b::10");
      assert.equal(v6?.["metric"], OWNED_ADDRESS_METRIC);
      assert.equal(v6?.["noprefixroute"], true);
      assert.equal(v6?.["nodad"], true, "IPv6 addresses skip DAD");
      assert.equal(v6?.["tentative"], undefined, "usable at once");
      assert.equal((await run("ip", "-n", A, "route", "show", "198.18.200.10")).trim(), "");

      // Adding again (a retry, or a race with a previous agent) is not an error.
      await kernel.addAddress(A_IF, "198.18.200.10", 32);
      await kernel.addAddress(A_IF, "fd48:6b::10", 128);
    },
  );

  it(
    "plan + apply reaches the desired state, and a second pass changes nothing",
    TIMEOUT,
    async () => {
      const desired: AddressAssignment[] = [
        { interface: A_IF, address: "198.18.200.10", prefixLength: 32 },
        { interface: A_IF, address: "198.18.200.11", prefixLength: 32 },
        { interface: A_IF, address: "fd48:6b::11", prefixLength: 128 },
      ];
      const first = planAddressChanges(desired, await kernel.listInterfaces());
      assert.deepEqual(
        first.remove.map((a) => a.address),
        ["fd48:6b::10"],
      );
      assert.deepEqual(
        first.add.map((a) => a.address),
        ["198.18.200.11", "fd48:6b::11"],
      );
      assert.deepEqual(await applyAddressChanges(kernel, first), []);

      const second = planAddressChanges(desired, await kernel.listInterfaces());
      assert.deepEqual(second, { remove: [], add: [] });
      // Applying a stale plan again is harmless: adds and removes of what is already so succeed.
      assert.deepEqual(await applyAddressChanges(kernel, first), []);
      const owned = (await kernel.listInterfaces())
        .flatMap((i) => i.addresses.filter((a) => a.owned))
        .map((a) => a.address)
        .sort();
      assert.deepEqual(owned, ["198.18.200.10", "198.18.200.11", "fd48:6b::11"]);
    },
  );

  it(
    "moves an address to another interface make-before-break, and changes a prefix remove-first",
    TIMEOUT,
    async () => {
      const start: AddressAssignment[] = [
        { interface: A_IF, address: "198.18.200.10", prefixLength: 32 },
        { interface: A_IF, address: "198.18.200.11", prefixLength: 32 },
        { interface: A_IF, address: "fd48:6b::11", prefixLength: 128 },
      ];
      const moved: AddressAssignment[] = [
        { interface: A_IF, address: "198.18.200.10", prefixLength: 32 },
        { interface: "lo", address: "198.18.200.11", prefixLength: 32 },
        { interface: A_IF, address: "fd48:6b::11", prefixLength: 120 },
      ];
      assert.deepEqual(
        planAddressChanges(start, await kernel.listInterfaces()),
        { remove: [], add: [] },
        "starts where the previous test left the namespace",
      );
      const monitor = spawn("ip", ["-n", A, "-o", "monitor", "address"], {
        stdio: ["ignore", "pipe", "ignore"],
      });
      let events = "";
      monitor.stdout.on("data", (chunk: Buffer) => (events += chunk.toString()));
      const exited = new Promise<void>((resolve) => monitor.on("exit", () => resolve()));
      try {
        await new Promise((resolve) => setTimeout(resolve, 300)); // the monitor subscribes
        const plan = planAddressChanges(moved, await kernel.listInterfaces());
        assert.deepEqual(await applyAddressChanges(kernel, plan), []);
        await new Promise((resolve) => setTimeout(resolve, 300)); // the last event lands
      } finally {
        monitor.kill();
        await exited;
      }
      const lines = events.split("\n").filter((line) => line.trim() !== "");
      const at = (pattern: RegExp) => {
        const index = lines.findIndex((line) => pattern.test(line));
        assert.notEqual(index, -1, `no event matching ${pattern} in:\n${lines.join("\n")}`);
        return index;
      };
      assert.ok(
        at(/^\d+: lo\s+inet 198\.18\.200\.11\/32/) <
          at(new RegExp(`^Deleted \\d+: ${A_IF}\\s+inet 198\\.18\\.200\\.11/32`)),
        `the address is on lo before it leaves ${A_IF}:\n${lines.join("\n")}`,
      );
      assert.ok(
        at(/^Deleted \d+: \S+\s+inet6 fd48:6b::11\/128/) < at(/^\d+: \S+\s+inet6 fd48:6b::11\/120/),
        `IPv6 refuses a second copy: the old prefix goes first:\n${lines.join("\n")}`,
      );
      assert.deepEqual(planAddressChanges(moved, await kernel.listInterfaces()), {
        remove: [],
        add: [],
      });
      // Back as the previous test left it, for the ones after.
      const back = planAddressChanges(start, await kernel.listInterfaces());
      assert.deepEqual(await applyAddressChanges(kernel, back), []);
    },
  );

  it("never removes an address it does not own", TIMEOUT, async () => {
    await run("ip", "-n", A, "addr", "add", "198.18.200.30/32", "dev", A_IF);
    await run("ip", "-n", A, "addr", "add", "fd48:6b::30/128", "dev", A_IF, "nodad");
    // The operator also holds a desired address: it is left as it is, not taken over.
    await run("ip", "-n", A, "addr", "add", "198.18.200.31/32", "dev", A_IF);
    const desired = [{ interface: A_IF, address: "198.18.200.31", prefixLength: 32 }];
    const plan = planAddressChanges(desired, await kernel.listInterfaces());
    assert.deepEqual(plan.add, []);
    assert.ok(plan.remove.every((a) => !["198.18.200.30", "fd48:6b::30"].includes(a.address)));
    assert.deepEqual(await applyAddressChanges(kernel, plan), []);

    await assert.rejects(kernel.removeAddress(A_IF, "198.18.200.30", 32), /not Herald's/);
    await assert.rejects(kernel.removeAddress(A_IF, "fd48:6b::30", 128), /not Herald's/);
    const left = (await kernel.listInterfaces()).flatMap((i) => i.addresses.map((a) => a.address));
    for (const address of ["198.18.200.30", "fd48:6b::30", "198.18.200.31", "198.18.200.1"]) {
      assert.ok(left.includes(address), `${address} is still there`);
    }
    // Removing what is not there, or from an interface that is not there, is done already.
    await kernel.removeAddress(A_IF, "198.18.200.99", 32);
    await kernel.removeAddress("nosuch0", "198.18.200.99", 32);
  });

  it("gratuitous ARP: b's entry for the address moves to a's MAC", TIMEOUT, async () => {
    await kernel.addAddress(A_IF, "198.18.200.40", 32);
    await inB(
      "ip",
      "neigh",
      "replace",
      "198.18.200.40",
      "lladdr",
      WRONG_MAC,
      "dev",
      B_IF,
      "nud",
      "stale",
    );
    assert.equal(await neighbourInB("198.18.200.40"), WRONG_MAC);

    const capture = await captureInB("arp and arp[14:4] = 0xc612c828"); // sender 198.18.200.40
    const started = Date.now();
    const announcement = await kernel.announce(A_IF, "198.18.200.40", {
      count: 3,
      intervalMs: 300,
    });
    const firstOutMs = Date.now() - started;
    assert.equal(announcement.sent, 1, "resolves when the first packet is out");
    assert.ok(firstOutMs < 1000, `first packet out after ${firstOutMs} ms`);
    assert.equal(await neighbourInB("198.18.200.40"), macA);

    assert.deepEqual(await announcement.done, { sent: 3, rounds: 3, cancelled: false });
    const packets = await capture.stop();
    assert.equal(packets.length, 3, packets.join("\n"));
    for (const packet of packets) {
      assert.match(packet, new RegExp(`^${macA} > ff:ff:ff:ff:ff:ff`), "broadcast from a");
      assert.match(packet, /Request who-has 198\.18\.200\.40 .* tell 198\.18\.200\.40/);
    }
  });

  it("an abort stops the repeats", TIMEOUT, async () => {
    const controller = new AbortController();
    const announcement = await kernel.announce(
      A_IF,
      "198.18.200.40",
      { count: 5, intervalMs: 500 },
      controller.signal,
    );
    controller.abort();
    assert.deepEqual(await announcement.done, { sent: 1, rounds: 1, cancelled: true });
  });

  it(
    "the kernel sends no unsolicited NA for a nodad address, even with ndisc_notify=1",
    TIMEOUT,
    async () => {
      // The premise of announce()'s IPv6 path, checked on the running kernel.
      await inA("sysctl", "-q", "-w", `net.ipv6.conf.${A_IF}.ndisc_notify=1`);
      const capture = await captureInB("icmp6 and ip6[40] = 136"); // neighbour advertisements
      await kernel.addAddress(A_IF, "fd48:6b::50", 128);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const packets = await capture.stop();
      assert.deepEqual(
        packets.filter((p) => p.includes("tgt is fd48:6b::50")),
        [],
        "this kernel advertises nodad addresses itself: announce() could rely on ndisc_notify",
      );
    },
  );

  it("IPv6: solicitations from the address move b's entry to a's MAC", TIMEOUT, async () => {
    await kernel.addAddress(A_IF, "fd48:6b::40", 128);
    // a knows b as a neighbour, as a node knows its router.
    await inA("ping", "-6", "-c", "1", "-W", "2", "fd48:6b::2");
    await inB(
      "ip",
      "-6",
      "neigh",
      "replace",
      "fd48:6b::40",
      "lladdr",
      WRONG_MAC,
      "dev",
      B_IF,
      "nud",
      "stale",
    );
    assert.equal(await neighbourInB("fd48:6b::40"), WRONG_MAC);

    const capture = await captureInB("icmp6 and ip6[40] = 135"); // neighbour solicitations
    const announcement = await kernel.announce(A_IF, "fd48:6b::40", { count: 2, intervalMs: 200 });
    // b is a's only neighbour (known by its global and its link-local address): one per round.
    assert.equal(announcement.sent, 1);
    assert.equal(await neighbourInB("fd48:6b::40"), macA);
    const result = await announcement.done;
    assert.deepEqual(result, { sent: 2, rounds: 2, cancelled: false });
    const packets = (await capture.stop()).filter((p) => p.includes("fd48:6b::40 >"));
    assert.equal(packets.length, result.sent, packets.join("\n"));
  });

  it(
    "ensureSysctls sets what local mode needs once; checkSysctls then finds nothing",
    TIMEOUT,
    async () => {
      await inA("sysctl", "-q", "-w", `net.ipv6.conf.${A_IF}.ndisc_notify=0`);
      const before = await kernel.checkSysctls(A_IF);
      assert.deepEqual(
        before.map((f) => f.requirement.name),
        [
          `net.ipv4.conf.${A_IF}.arp_ignore`,
          `net.ipv4.conf.${A_IF}.arp_announce`,
          `net.ipv6.conf.${A_IF}.ndisc_notify`,
        ],
      );
      assert.deepEqual(await kernel.ensureSysctls(A_IF), [
        { name: `net.ipv4.conf.${A_IF}.arp_ignore`, from: 0, to: 1 },
        { name: `net.ipv4.conf.${A_IF}.arp_announce`, from: 0, to: 2 },
        { name: `net.ipv6.conf.${A_IF}.ndisc_notify`, from: 0, to: 1 },
      ]);
      assert.deepEqual(await kernel.ensureSysctls(A_IF), []);
      assert.deepEqual(await kernel.checkSysctls(A_IF), []);
      assert.equal((await inA("sysctl", "-n", `net.ipv4.conf.${A_IF}.arp_announce`)).trim(), "2");
      await assert.rejects(kernel.ensureSysctls("nosuch0"), /does not exist/);
    },
  );

  it(
    "herald agent-sysctls raises the all keys only where lower, through --proc-sys, and leaves interfaces alone",
    TIMEOUT,
    async () => {
      const read = async (key: string) => (await inA("sysctl", "-n", key)).trim();
      await inA("sysctl", "-q", "-w", "net.ipv4.conf.all.arp_ignore=2");
      await inA("sysctl", "-q", "-w", "net.ipv4.conf.all.arp_announce=0");
      await inA("sysctl", "-q", "-w", "net.ipv6.conf.all.ndisc_notify=0");
      await inA("sysctl", "-q", "-w", `net.ipv4.conf.${A_IF}.arp_ignore=0`);
      await inA("sysctl", "-q", "-w", `net.ipv4.conf.${A_IF}.arp_announce=1`);
      await inA("sysctl", "-q", "-w", `net.ipv6.conf.${A_IF}.ndisc_notify=0`);
      // all.arp_ignore=2 already covers the interface's 0; the other two do not.
      assert.deepEqual(
        (await kernel.checkSysctls(A_IF)).map((f) => f.requirement.name),
        [`net.ipv4.conf.${A_IF}.arp_announce`, `net.ipv6.conf.${A_IF}.ndisc_notify`],
      );
      const main = new URL("../../cli/main.ts", import.meta.url).pathname;
      await inA(process.execPath, main, "agent-sysctls", "--proc-sys", "/proc/sys");
      // arp_ignore 2 is stricter than the 1 local mode needs: it stays.
      assert.equal(await read("net.ipv4.conf.all.arp_ignore"), "2");
      assert.equal(await read("net.ipv4.conf.all.arp_announce"), "2");
      assert.equal(await read("net.ipv6.conf.all.ndisc_notify"), "1");
      assert.equal(await read(`net.ipv4.conf.${A_IF}.arp_ignore`), "0");
      assert.equal(await read(`net.ipv4.conf.${A_IF}.arp_announce`), "1");
      // With the all keys raised, every interface already meets local mode's needs.
      assert.deepEqual(await kernel.checkSysctls(A_IF), []);
    },
  );

  it(
    "ensureVirtualInterface makes a dummy, or a portless bridge without the module; idempotent",
    TIMEOUT,
    async () => {
      // What the kernel offers decides the kind; the lab kernel has no dummy module.
      const dummyAvailable = await inA("ip", "link", "add", "hlkprobe", "type", "dummy").then(
        async () => {
          await inA("ip", "link", "del", "hlkprobe");
          return true;
        },
        () => false,
      );
      const expected = dummyAvailable ? "dummy" : "bridge";

      assert.deepEqual(await kernel.ensureVirtualInterface("kube-lb0"), {
        name: "kube-lb0",
        kind: expected,
        created: true,
      });
      assert.deepEqual(await kernel.ensureVirtualInterface("kube-lb0"), {
        name: "kube-lb0",
        kind: expected,
        created: false,
      });
      const ports = JSON.parse(
        await run("ip", "-n", A, "-j", "link", "show", "master", "kube-lb0"),
      );
      assert.deepEqual(ports, []);

      // Routed addresses go on it with the aggregation prefix, owned like any other.
      await kernel.addAddress("kube-lb0", "203.0.113.0", 24);
      await kernel.addAddress("kube-lb0", "2001:db8:5::", 64);
      const lb = (await kernel.listInterfaces()).find((i) => i.name === "kube-lb0");
      assert.equal(lb?.virtual, true);
      assert.equal(lb?.kind, expected);
      assert.equal(lb?.up, true);
      assert.deepEqual(
        lb?.addresses.filter((a) => a.owned).map((a) => `${a.address}/${a.prefixLength}`),
        ["203.0.113.0/24", "2001:db8:5::/64"],
      );
      // Traffic to them is delivered locally.
      await inA("ping", "-c", "1", "-W", "2", "203.0.113.0");
      // Never a home for local addresses, even when a regex names it.
      assert.deepEqual(chooseInterface("203.0.113.7", [lb!], ["^kube-lb0$"]), {
        error: 'no interface on this node matches "^kube-lb0$"',
      });
      await kernel.removeAddress("kube-lb0", "203.0.113.0", 24);

      // Another kind of interface by that name is not taken over.
      const clash = await kernel.ensureVirtualInterface(A_IF);
      assert.ok("error" in clash && /is a veth interface/.test(clash.error), JSON.stringify(clash));
    },
  );
});
