// renderBirdConfig: what each BGPPeer / BGPAdvertisement setting becomes in bird.conf. Every
// configuration rendered here is also given to BIRD's own parser (`bird -p`), so a syntax
// error fails the test that produced it; BIRD 2 must be installed (apt-get install bird2).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { BGPAdvertisementSpec } from "../../api/bgpadvertisement.ts";
import type { BGPPeerSpec } from "../../api/bgppeer.ts";
import {
  protocolName,
  renderBirdConfig,
  type BirdInputs,
  type NamedAdvertisement,
  type NamedPeer,
} from "./render.ts";

let dir = "";
let checked = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "herald-bird-render-"));
  await new Promise<void>((resolve, reject) =>
    execFile("bird", ["--version"], (error) => {
      if (error && (error as NodeJS.ErrnoException).code === "ENOENT") {
        reject(new Error("bird is not installed; these tests need BIRD 2: apt-get install bird2"));
      } else resolve();
    }),
  );
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs BIRD's parser on the configuration; fails the test with BIRD's message. */
async function assertBirdAccepts(config: string): Promise<void> {
  const file = join(dir, `bird-${++checked}.conf`);
  await writeFile(file, config);
  const stderr = await new Promise<string | undefined>((resolve) =>
    execFile("bird", ["-p", "-c", file], { encoding: "utf8" }, (error, _stdout, stderr) =>
      resolve(error ? stderr || error.message : undefined),
    ),
  );
  assert.equal(stderr, undefined, `bird -p refused the configuration:\n${stderr}\n${config}`);
}

function peer(name: string, spec: Partial<BGPPeerSpec> = {}, labels = {}): NamedPeer {
  return {
    name,
    labels,
    spec: { peerAddress: "198.18.0.1", peerASN: 64513, localASN: 64512, ...spec },
  };
}

function advertisement(name: string, spec: BGPAdvertisementSpec = {}): NamedAdvertisement {
  return { name, spec };
}

function inputs(overrides: Partial<BirdInputs> = {}): BirdInputs {
  return {
    node: { name: "node1", labels: { rack: "r1" }, ipv4: "198.18.0.11", ipv6: "fd00:18::11" },
    settings: { virtualInterface: "kube-lb0" },
    peers: [peer("tor")],
    advertisements: [advertisement("everything")],
    poolLabels: new Map([
      ["routed", { tier: "public" }],
      ["internal", { tier: "private" }],
    ]),
    routes: [
      { prefix: "198.19.0.6/32", pool: "routed", family: "IPv4" },
      { prefix: "198.19.0.5/32", pool: "routed", family: "IPv4" },
      { prefix: "198.19.1.0/28", pool: "internal", family: "IPv4" },
      { prefix: "fd00:19::5/128", pool: "routed", family: "IPv6" },
    ],
    passwords: new Map(),
    ...overrides,
  };
}

function render(overrides: Partial<BirdInputs> = {}): string {
  const result = renderBirdConfig(inputs(overrides));
  if ("error" in result) assert.fail(`unexpected error: ${result.error}`);
  return result.config;
}

/** The lines of one block (`protocol bgp peer_tor {` … `}`), for assertions local to it. */
function block(config: string, header: string): string {
  const start = config.indexOf(`${header} {\n`);
  assert.notEqual(start, -1, `no "${header}" in:\n${config}`);
  return config.slice(start, config.indexOf("\n}\n", start) + 2);
}

describe("renderBirdConfig", () => {
  it("keeps a node name that BIRD would parse out of the comment it is in", () => {
    const name = 'evil\nprotocol static x { route 0.0.0.0/0 blackhole; }\n#"';
    const config = render({ node: { ...inputs().node, name } });
    const first = config.split("\n")[0]!;
    assert.match(first, /^# bird\.conf for node evil_protocol_static_x_/);
    assert.doesNotMatch(config, /protocol static/);
  });

  it("renders a complete eBGP configuration, exactly", async () => {
    const config = render();
    assert.equal(
      config,
      `# bird.conf for node node1, rendered by the Herald agent; edits are overwritten.

log stderr { info, remote, warning, error, auth, fatal, bug };
timeformat protocol "%Y-%m-%dT%H:%M:%S%z";
router id 198.18.0.11;

protocol device {
}

protocol direct herald_lb {
  ipv4;
  ipv6;
  interface "kube-lb0";
}

filter peer_tor_export_ipv4 {
  if proto != "herald_lb" || ifname != "kube-lb0" then reject;
  if net ~ [ 198.19.0.5/32, 198.19.0.6/32, 198.19.1.0/28 ] then {
    accept;
  }
  reject;
}

protocol bgp peer_tor {
  description "tor";
  local as 64512;
  neighbor 198.18.0.1 as 64513;
  interpret communities off;
  connect retry time 5;
  error wait time 5, 30;
  ipv4 {
    import none;
    export filter peer_tor_export_ipv4;
    next hop self;
  };
}
`,
    );
    await assertBirdAccepts(config);
  });

  const cases: {
    name: string;
    overrides: Partial<BirdInputs>;
    /** Fragments that must appear in the block named by `in` (default: whole config). */
    has?: string[];
    hasNot?: string[];
    in?: string;
  }[] = [
    {
      name: "iBGP: next hop self and the local preference",
      overrides: {
        peers: [peer("rr", { peerASN: 64512 })],
        advertisements: [advertisement("pref", { localPreference: 200 })],
      },
      has: [
        "local as 64512;",
        "neighbor 198.18.0.1 as 64512;",
        "next hop self;",
        "bgp_local_pref = 200;",
      ],
    },
    {
      name: "eBGP: no local preference, which BIRD would strip anyway",
      overrides: { advertisements: [advertisement("pref", { localPreference: 200 })] },
      hasNot: ["bgp_local_pref"],
    },
    {
      name: "4-byte AS numbers",
      overrides: { peers: [peer("tor", { localASN: 4200000001, peerASN: 4294967295 })] },
      has: ["local as 4200000001;", "neighbor 198.18.0.1 as 4294967295;"],
    },
    {
      name: "an IPv6 peer carries IPv6 only, with this node's address as next hop",
      overrides: { peers: [peer("tor6", { peerAddress: "fd00:18::1" })] },
      in: "protocol bgp peer_tor6",
      has: ["neighbor fd00:18::1 as 64513;", "  ipv6 {", "next hop self;"],
      hasNot: ["ipv4 {", "next hop address"],
    },
    {
      name: "the IPv6 peer's filter names the IPv6 prefixes",
      overrides: { peers: [peer("tor6", { peerAddress: "fd00:18::1" })] },
      in: "filter peer_tor6_export_ipv6",
      has: ["if net ~ [ fd00:19::5/128 ] then {"],
    },
    {
      name: "IPv6 over an IPv4 session: the node's IPv6 address as next hop",
      overrides: { peers: [peer("tor", { families: ["IPv6", "IPv4"] })] },
      in: "protocol bgp peer_tor",
      has: ["  ipv4 {", "  ipv6 {", "next hop address fd00:18::11;"],
    },
    {
      name: "multihop",
      overrides: { peers: [peer("far", { peerAddress: "203.0.113.1", ebgpMultihop: 3 })] },
      has: ["multihop 3;", "neighbor 203.0.113.1 as 64513;"],
    },
    {
      name: "a port other than 179",
      overrides: { peers: [peer("tor", { port: 1179 })] },
      has: ["neighbor 198.18.0.1 port 1179 as 64513;"],
    },
    {
      name: "port 179 is BIRD's default and left out",
      overrides: { peers: [peer("tor", { port: 179 })] },
      has: ["neighbor 198.18.0.1 as 64513;"],
    },
    {
      name: "a password, backslashes kept literally (BIRD strings have no escapes)",
      overrides: {
        peers: [peer("tor", { passwordSecretRef: { namespace: "herald", name: "tor" } })],
        passwords: new Map([["tor", "p\\a$s w'rd#;{"]]),
      },
      has: [`password "p\\a$s w'rd#;{";`],
    },
    {
      name: "timers",
      overrides: { peers: [peer("tor", { holdTime: 9, keepaliveTime: 3 })] },
      has: ["hold time 9;", "keepalive time 3;"],
    },
    {
      name: "hold time 0 turns keepalives off; BIRD takes no keepalive time then",
      overrides: { peers: [peer("tor", { holdTime: 0, keepaliveTime: 0 })] },
      has: ["hold time 0;"],
      hasNot: ["keepalive time"],
    },
    {
      name: "BFD with default timers runs a bfd protocol",
      overrides: { peers: [peer("tor", { bfd: {} })] },
      has: [
        "protocol bfd herald_bfd {",
        "bfd { min rx interval 300 ms; min tx interval 300 ms; multiplier 3; };",
      ],
    },
    {
      name: "BFD timers are per session",
      overrides: {
        peers: [
          peer("fast", { bfd: { minRxMs: 50, minTxMs: 100, multiplier: 5 } }),
          peer("slow", { peerAddress: "198.18.0.2", bfd: { minRxMs: 1000 } }),
        ],
      },
      has: [
        "bfd { min rx interval 50 ms; min tx interval 100 ms; multiplier 5; };",
        "bfd { min rx interval 1000 ms; min tx interval 300 ms; multiplier 3; };",
      ],
    },
    {
      name: "BFD on a multihop (iBGP) session gets the node's address as source",
      overrides: { peers: [peer("rr", { peerASN: 64512, bfd: {} })] },
      has: ["local 198.18.0.11 as 64512;"],
    },
    {
      name: "no BFD, no bfd protocol",
      hasNot: ["bfd"],
      overrides: {},
    },
    {
      name: "communities, well-known names as numbers, sorted and deduplicated",
      overrides: {
        advertisements: [
          advertisement("c", { communities: ["no-export", "65000:100", "blackhole", "65000:100"] }),
        ],
      },
      in: "filter peer_tor_export_ipv4",
      has: [
        "    bgp_community.add((65000, 100));\n    bgp_community.add((65535, 666));\n    bgp_community.add((65535, 65281));\n",
      ],
    },
    {
      name: "every well-known community",
      overrides: {
        advertisements: [
          advertisement("c", {
            communities: [
              "no-export",
              "no-advertise",
              "no-export-subconfed",
              "no-peer",
              "blackhole",
              "graceful-shutdown",
              "accept-own",
              "llgr-stale",
              "no-llgr",
            ],
          }),
        ],
      },
      has: [
        "(65535, 0)",
        "(65535, 1)",
        "(65535, 6)",
        "(65535, 7)",
        "(65535, 666)",
        "(65535, 65281)",
        "(65535, 65282)",
        "(65535, 65283)",
        "(65535, 65284)",
      ],
    },
    {
      name: "large communities",
      overrides: {
        advertisements: [
          advertisement("l", { largeCommunities: ["4200000000:1:2", "64512:0:4294967295"] }),
        ],
      },
      has: [
        "bgp_large_community.add((64512, 0, 4294967295));\n    bgp_large_community.add((4200000000, 1, 2));",
      ],
    },
    {
      name: "a peer whose nodeSelector excludes this node is left out",
      overrides: {
        peers: [
          peer("here", { nodeSelector: { matchLabels: { rack: "r1" } } }),
          peer("elsewhere", {
            peerAddress: "198.18.0.2",
            nodeSelector: { matchLabels: { rack: "r2" } },
          }),
        ],
      },
      has: ["protocol bgp peer_here {"],
      hasNot: ["peer_elsewhere", "198.18.0.2"],
    },
    {
      name: "advertisements select pools by name and by label",
      overrides: {
        advertisements: [
          advertisement("internal", { pools: ["internal"], communities: ["65000:2"] }),
          advertisement("public", {
            poolSelector: { matchLabels: { tier: "public" } },
            communities: ["65000:1"],
          }),
        ],
      },
      in: "filter peer_tor_export_ipv4",
      has: [
        "  if net ~ [ 198.19.0.5/32, 198.19.0.6/32 ] then {\n    bgp_community.add((65000, 1));\n    accept;\n  }\n" +
          "  if net ~ [ 198.19.1.0/28 ] then {\n    bgp_community.add((65000, 2));\n    accept;\n  }\n",
      ],
    },
    {
      name: "a pool no advertisement selects is not exported",
      overrides: { advertisements: [advertisement("internal", { pools: ["internal"] })] },
      in: "filter peer_tor_export_ipv4",
      has: ["if net ~ [ 198.19.1.0/28 ] then {"],
      hasNot: ["198.19.0.5"],
    },
    {
      name: "no advertisement: the filter exports nothing",
      overrides: { advertisements: [] },
      in: "filter peer_tor_export_ipv4",
      has: ['  if proto != "herald_lb" || ifname != "kube-lb0" then reject;\n  reject;\n}'],
      hasNot: ["accept"],
    },
    {
      name: "advertisements select peers by name and by label",
      overrides: {
        peers: [
          peer("tor-a", {}, { role: "primary" }),
          peer("tor-b", { peerAddress: "198.18.0.2" }, { role: "backup" }),
        ],
        advertisements: [
          advertisement("to-a", { peers: ["tor-a"], communities: ["65000:10"] }),
          advertisement("to-backup", {
            peerSelector: { matchLabels: { role: "backup" } },
            communities: ["65000:20"],
          }),
        ],
      },
      in: "filter peer_tor_b_export_ipv4",
      has: ["(65000, 20)"],
      hasNot: ["(65000, 10)"],
    },
    {
      name: "several advertisements for one prefix: union of communities, highest preference",
      overrides: {
        peers: [peer("rr", { peerASN: 64512 })],
        advertisements: [
          advertisement("a", {
            communities: ["65000:1"],
            largeCommunities: ["1:2:3"],
            localPreference: 50,
          }),
          advertisement("b", {
            pools: ["routed"],
            communities: ["65000:2", "65000:1"],
            localPreference: 300,
          }),
        ],
      },
      in: "filter peer_rr_export_ipv4",
      has: [
        "  if net ~ [ 198.19.0.5/32, 198.19.0.6/32 ] then {\n" +
          "    bgp_community.add((65000, 1));\n    bgp_community.add((65000, 2));\n" +
          "    bgp_large_community.add((1, 2, 3));\n    bgp_local_pref = 300;\n    accept;\n  }\n" +
          "  if net ~ [ 198.19.1.0/28 ] then {\n    bgp_community.add((65000, 1));\n" +
          "    bgp_large_community.add((1, 2, 3));\n    bgp_local_pref = 50;\n    accept;\n  }\n",
      ],
    },
    {
      name: "a peer's routerID applies to its session",
      overrides: { peers: [peer("tor", { routerID: "10.0.0.9" })] },
      has: ["router id 198.18.0.11;", "  router id 10.0.0.9;"],
    },
    {
      name: "an IPv6-only node takes its router ID from a BGPPeer",
      overrides: {
        node: { name: "v6only", labels: {}, ipv6: "fd00:18::11" },
        peers: [peer("tor6", { peerAddress: "fd00:18::1", routerID: "10.0.0.9" })],
      },
      has: ["router id 10.0.0.9;"],
      hasNot: ["  router id"],
    },
    {
      name: "a peer name BIRD cannot take verbatim becomes an identifier, the name a description",
      overrides: { peers: [peer("tor.rack-1.example")] },
      has: [
        `protocol bgp ${protocolName("tor.rack-1.example")} {`,
        'description "tor.rack-1.example";',
      ],
    },
    {
      name: "host bits of a routed prefix are cleared, duplicates merged",
      overrides: {
        routes: [
          { prefix: "198.19.1.3/28", pool: "internal", family: "IPv4" },
          { prefix: "198.19.1.0/28", pool: "internal", family: "IPv4" },
        ],
      },
      has: ["if net ~ [ 198.19.1.0/28 ] then {"],
    },
    {
      name: "a leaving node's route carries GRACEFUL_SHUTDOWN (and LOCAL_PREF 0 over iBGP), the others not",
      overrides: {
        peers: [peer("tor", { peerASN: 64512 })],
        routes: [
          { prefix: "198.19.0.5/32", pool: "routed", family: "IPv4", gracefulShutdown: true },
          { prefix: "198.19.0.6/32", pool: "routed", family: "IPv4" },
        ],
      },
      has: [
        "if net ~ [ 198.19.0.5/32 ] then {\n    bgp_community.add((65535, 0));\n    bgp_local_pref = 0;",
        "if net ~ [ 198.19.0.6/32 ] then {\n    accept;",
      ],
    },
    {
      name: "another virtual interface name",
      overrides: { settings: { virtualInterface: "herald.lb" } },
      has: ['interface "herald.lb";', 'ifname != "herald.lb"'],
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const config = render(c.overrides);
      const text = c.in ? block(config, c.in) : config;
      for (const fragment of c.has ?? []) {
        assert.ok(text.includes(fragment), `expected ${JSON.stringify(fragment)} in:\n${text}`);
      }
      for (const fragment of c.hasNot ?? []) {
        assert.ok(
          !text.includes(fragment),
          `did not expect ${JSON.stringify(fragment)} in:\n${text}`,
        );
      }
      await assertBirdAccepts(config);
    });
  }

  it("renders everything at once, and BIRD accepts it", async () => {
    const config = render({
      peers: [
        peer(
          "tor-a",
          { bfd: {}, passwordSecretRef: { namespace: "n", name: "s" }, holdTime: 30 },
          { role: "tor" },
        ),
        peer("tor-b6", { peerAddress: "fd00:18::2", bfd: { minRxMs: 100 } }, { role: "tor" }),
        peer("rr", {
          peerAddress: "10.255.0.1",
          peerASN: 64512,
          bfd: {},
          families: ["IPv4", "IPv6"],
        }),
        peer("far", {
          peerAddress: "203.0.113.9",
          ebgpMultihop: 4,
          port: 1179,
          routerID: "10.0.0.1",
        }),
      ],
      advertisements: [
        advertisement("tors", {
          peerSelector: { matchLabels: { role: "tor" } },
          communities: ["no-export"],
        }),
        advertisement("rr", {
          peers: ["rr"],
          localPreference: 150,
          largeCommunities: ["64512:1:1"],
        }),
        advertisement("far", { peers: ["far"], pools: ["internal"] }),
      ],
      passwords: new Map([["tor-a", "secret"]]),
    });
    await assertBirdAccepts(config);
  });

  it("keeps a node name that is no DNS name inside its comment", async () => {
    const config = render({
      node: { name: "evil\nprotocol device x {}", labels: {}, ipv4: "198.18.0.11" },
    });
    assert.ok(!config.includes("\nprotocol device x"), config.split("\n")[0]);
    assert.match(config, /^# bird\.conf for node evil_protocol_device_x___,/);
    await assertBirdAccepts(config);
  });

  it("gives byte-identical output for the same input in any order", () => {
    const one = render({
      peers: [peer("a"), peer("b", { peerAddress: "198.18.0.2" })],
      advertisements: [
        advertisement("x", { communities: ["65000:2", "65000:1"] }),
        advertisement("y", { communities: ["65000:3"], pools: ["internal"] }),
      ],
    });
    const base = inputs();
    const two = render({
      peers: [peer("b", { peerAddress: "198.18.0.2" }), peer("a")],
      advertisements: [
        advertisement("y", { communities: ["65000:3"], pools: ["internal"] }),
        advertisement("x", { communities: ["65000:1", "65000:2"] }),
      ],
      routes: [...base.routes].reverse(),
    });
    assert.equal(one, two);
  });
});

describe("renderBirdConfig refuses unusable input with a sentence", () => {
  const cases: { name: string; overrides: Partial<BirdInputs>; error: RegExp }[] = [
    {
      name: "a peer address that is not an IP",
      overrides: { peers: [peer("tor", { peerAddress: "router.example" })] },
      error: /^BGPPeer "tor": peerAddress "router.example" is not an IPv4 or IPv6 address$/,
    },
    {
      name: "a link-local peer address",
      overrides: { peers: [peer("tor", { peerAddress: "fe80::1" })] },
      error: /link-local/,
    },
    {
      name: "an AS number out of range",
      overrides: { peers: [peer("tor", { peerASN: 4294967296 })] },
      error: /peerASN 4294967296 is not an AS number/,
    },
    {
      name: "a password Secret that could not be read",
      overrides: {
        peers: [peer("tor", { passwordSecretRef: { namespace: "herald", name: "tor-md5" } })],
      },
      error:
        /^BGPPeer "tor": its password \(Secret herald\/tor-md5 key "password"\) could not be read$/,
    },
    {
      name: "a password BIRD cannot write",
      overrides: {
        peers: [peer("tor", { passwordSecretRef: { namespace: "herald", name: "s", key: "k" } })],
        passwords: new Map([["tor", 'say "hi"']]),
      },
      error: /contains a double quote or a line break/,
    },
    {
      name: "a password longer than TCP MD5 allows",
      overrides: {
        peers: [peer("tor", { passwordSecretRef: { namespace: "herald", name: "s" } })],
        passwords: new Map([["tor", "x".repeat(81)]]),
      },
      error: /longer than the 80 bytes/,
    },
    {
      name: "a keepalive not below the hold time",
      overrides: { peers: [peer("tor", { holdTime: 9, keepaliveTime: 9 })] },
      error: /keepaliveTime must be less than the hold time \(9 s\)/,
    },
    {
      name: "a hold time BIRD refuses",
      overrides: { peers: [peer("tor", { holdTime: 2 })] },
      error: /holdTime 2 must be 0 or from 3 to 65535 seconds/,
    },
    {
      name: "multihop on iBGP",
      overrides: { peers: [peer("rr", { peerASN: 64512, ebgpMultihop: 2 })] },
      error: /ebgpMultihop applies to eBGP only/,
    },
    {
      name: "IPv6 over IPv4 on a node without IPv6",
      overrides: {
        node: { name: "n", labels: {}, ipv4: "198.18.0.11" },
        peers: [peer("tor", { families: ["IPv4", "IPv6"] })],
      },
      error:
        /carrying IPv6 over an IPv4 session needs the node's IPv6 address as next hop, and node "n" has none/,
    },
    {
      name: "BFD on multihop without a source address",
      overrides: {
        node: { name: "n", labels: {}, ipv4: "198.18.0.11" },
        peers: [peer("rr6", { peerAddress: "fd00:18::1", peerASN: 64512, bfd: {} })],
      },
      error: /BFD on a multihop session needs the node's IPv6 address as source/,
    },
    {
      name: "no router ID",
      overrides: {
        node: { name: "n", labels: {}, ipv6: "fd00:18::11" },
        peers: [peer("tor6", { peerAddress: "fd00:18::1" })],
      },
      error: /^node "n" has no IPv4 address to use as BGP router ID; set routerID on its BGPPeers$/,
    },
    {
      name: "a router ID that is not IPv4",
      overrides: { peers: [peer("tor", { routerID: "fd00::1" })] },
      error: /routerID "fd00::1" is not an IPv4 address/,
    },
    {
      name: "a community that is not one",
      overrides: { advertisements: [advertisement("c", { communities: ["65536:1"] })] },
      error: /^BGPAdvertisement "c": community "65536:1" is neither/,
    },
    {
      name: "a large community that is not one",
      overrides: { advertisements: [advertisement("l", { largeCommunities: ["1:2"] })] },
      error: /large community "1:2" is not three numbers/,
    },
    {
      name: "pools and poolSelector together",
      overrides: { advertisements: [advertisement("p", { pools: ["a"], poolSelector: {} })] },
      error: /sets both pools and poolSelector/,
    },
    {
      name: "a routed prefix that is not one",
      overrides: { routes: [{ prefix: "198.19.0.5", pool: "routed", family: "IPv4" }] },
      error: /routed prefix "198.19.0.5" is not an address with a prefix length/,
    },
    {
      name: "a routed prefix of the wrong family",
      overrides: { routes: [{ prefix: "fd00::5/128", pool: "routed", family: "IPv4" }] },
      error: /is not IPv4/,
    },
    {
      name: "a virtual interface name Linux refuses",
      overrides: { settings: { virtualInterface: 'kube lb"0' } },
      error: /is not a valid Linux interface name/,
    },
    {
      name: "two BGPPeers with one name",
      overrides: { peers: [peer("tor"), peer("tor", { peerAddress: "198.18.0.2" })] },
      error: /BGPPeer "tor" is listed twice/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const result = renderBirdConfig(inputs(c.overrides));
      assert.ok(
        "error" in result,
        `expected an error, got:\n${"config" in result ? result.config : ""}`,
      );
      assert.match(result.error, c.error);
    });
  }
});

describe("protocolName", () => {
  it("keeps plain names readable and makes others unique", () => {
    assert.equal(protocolName("tor-1"), "peer_tor_1");
    assert.notEqual(protocolName("a.b"), protocolName("a-b"));
    assert.match(protocolName("a.b"), /^peer_a_b_[0-9a-f]{8}$/);
    const long = protocolName("x".repeat(253));
    assert.ok(long.length <= 48 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(long), long);
  });
});
