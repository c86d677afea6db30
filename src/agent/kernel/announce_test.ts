import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  arpingSentCount,
  detectArpingFlavour,
  garpArguments,
  MAX_SOLICITATION_TARGETS,
  solicitationArguments,
  solicitationTargets,
} from "./announce.ts";

describe("detectArpingFlavour", () => {
  const cases: [string, string, ReturnType<typeof detectArpingFlavour>][] = [
    [
      "Habets' 2.23 -V (wants an argument, prints usage)",
      "arping: option requires an argument -- 'V'\nARPing 2.23, by Thomas Habets <thomas@habets.se>\nusage: arping [ -0aAbdDeFpPqrRuUvzZ ] [ -w <sec> ]",
      "habets",
    ],
    ["iputils -V (recent)", "arping from iputils 20240117\nlibcap: yes, IDN: yes", "iputils"],
    ["iputils -V (old)", "arping utility, iputils-s20180629", "iputils"],
    [
      "iputils usage",
      "Usage:\n  arping [options] <destination>\n  -U            unsolicited ARP mode, update your neighbours\n  -I <device>   which ethernet device to use",
      "iputils",
    ],
    [
      "BusyBox",
      "BusyBox v1.36.1 (2023-11-07) multi-call binary.\n\nUsage: arping [-fqbDUA] [-c CNT] [-w TIMEOUT] [-I IFACE] [-s SRC_IP] DST_IP",
      "iputils",
    ],
    ["something else", "bash: arping: command not found", undefined],
  ];
  for (const [name, output, want] of cases) {
    it(name, () => assert.equal(detectArpingFlavour(output), want));
  }
});

describe("garpArguments", () => {
  it("Habets': unsolicited, source = target, one packet, no lingering for replies", () => {
    assert.deepEqual(garpArguments("habets", "eth0", "10.0.0.50"), [
      "-U",
      "-i",
      "eth0",
      "-S",
      "10.0.0.50",
      "-c",
      "1",
      "-w",
      "0.01",
      "10.0.0.50",
    ]);
  });

  it("iputils': -U takes the target as source, -I names the interface", () => {
    assert.deepEqual(garpArguments("iputils", "eth0", "10.0.0.50"), [
      "-U",
      "-I",
      "eth0",
      "-c",
      "1",
      "10.0.0.50",
    ]);
  });
});

describe("arpingSentCount", () => {
  it("reads Habets' summary (its exit status is 1 when nothing answers)", () => {
    const stdout =
      "ARPING 198.18.200.10\nTimeout\n\n--- 198.18.200.10 statistics ---\n" +
      "1 packets transmitted, 0 packets received, 100% unanswered (0 extra)\n\n";
    assert.equal(arpingSentCount("habets", stdout), 1);
  });

  it("reads iputils' and BusyBox's summaries", () => {
    assert.equal(
      arpingSentCount(
        "iputils",
        "ARPING 10.0.0.50 from 10.0.0.50 eth0\nSent 1 probes (1 broadcast(s))\nReceived 0 response(s)\n",
      ),
      1,
    );
    assert.equal(arpingSentCount("iputils", "Sent 1 probe(s) (1 broadcast(s))\n"), 1);
  });

  it("says undefined when arping printed no summary: it failed before sending", () => {
    assert.equal(arpingSentCount("habets", ""), undefined);
    assert.equal(arpingSentCount("iputils", "arping: unknown iface eth9\n"), undefined);
  });
});

describe("solicitationTargets", () => {
  // `ip -6 -j neigh show dev eth0` and `ip -6 -j route show default dev eth0`.
  const neighbours = [
    { dst: "fd00:10::2", lladdr: "52:03:71:e4:fe:37", router: null, state: ["REACHABLE"] },
    { dst: "fe80::5003:71ff:fee4:fe37", lladdr: "52:03:71:E4:FE:37", state: ["STALE"] },
    { dst: "fd00:10::7", lladdr: "02:00:00:00:00:07", state: ["STALE"] },
    { dst: "fd00:10::8", lladdr: "02:00:00:00:00:08", state: ["DELAY"] },
    { dst: "fd00:10::9", state: ["FAILED"] },
    { dst: "fd00:10::a", lladdr: "02:00:00:00:00:0a", state: ["INCOMPLETE"] },
    { dst: "ff02::1", lladdr: "33:33:00:00:00:01", state: ["NOARP"] },
    { dst: "fd00:10::50", lladdr: "02:00:00:00:00:99", state: ["STALE"] },
  ];
  const routes = [
    { dst: "default", gateway: "fe80::1", metric: 1024, flags: [], pref: "medium" },
    {
      dst: "default",
      nexthops: [{ gateway: "fe80::5003:71ff:fee4:fe37" }, { gateway: "fe80::2" }],
    },
  ];

  it("asks default routers first, then routers, then other live neighbours, once per host", () => {
    assert.deepEqual(solicitationTargets(neighbours, routes, "fd00:10::50"), [
      "fe80::1",
      "fe80::5003:71ff:fee4:fe37",
      "fe80::2",
      "fd00:10::7",
      "fd00:10::8",
    ]);
  });

  it("never solicits the announced address itself", () => {
    assert.ok(!solicitationTargets(neighbours, [], "FD00:10:0::50").includes("fd00:10::50"));
  });

  it("with no neighbours and no routes, nobody", () => {
    assert.deepEqual(solicitationTargets([], [], "fd00:10::50"), []);
    assert.deepEqual(solicitationTargets(undefined, null, "fd00:10::50"), []);
  });

  it("stops at MAX_SOLICITATION_TARGETS", () => {
    const many = Array.from({ length: 200 }, (_, i) => ({
      dst: `fd00:10::${(i + 16).toString(16)}`,
      lladdr: `02:00:00:00:${(i >> 8).toString(16)}:${(i & 255).toString(16)}`,
      state: ["STALE"],
    }));
    assert.equal(solicitationTargets(many, [], "fd00:10::50").length, MAX_SOLICITATION_TARGETS);
  });
});

describe("solicitationArguments", () => {
  it("one solicitation from the announced address, little waiting for the answer", () => {
    assert.deepEqual(solicitationArguments("eth0", "fd00:10::50", "fe80::1"), [
      "-q",
      "-1",
      "-r",
      "1",
      "-w",
      "100",
      "-s",
      "fd00:10::50",
      "fe80::1",
      "eth0",
    ]);
  });
});
