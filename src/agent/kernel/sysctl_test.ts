import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { evaluateSysctls, localModeSysctls } from "./sysctl.ts";

describe("localModeSysctls", () => {
  it("asks arp_ignore=1, arp_announce=2 and ndisc_notify=1 of the interface", () => {
    assert.deepEqual(
      localModeSysctls("eth0").map((r) => [r.name, r.path, r.allPath, r.minimum, r.optional]),
      [
        [
          "net.ipv4.conf.eth0.arp_ignore",
          "net/ipv4/conf/eth0/arp_ignore",
          "net/ipv4/conf/all/arp_ignore",
          1,
          false,
        ],
        [
          "net.ipv4.conf.eth0.arp_announce",
          "net/ipv4/conf/eth0/arp_announce",
          "net/ipv4/conf/all/arp_announce",
          2,
          false,
        ],
        [
          "net.ipv6.conf.eth0.ndisc_notify",
          "net/ipv6/conf/eth0/ndisc_notify",
          "net/ipv6/conf/all/ndisc_notify",
          1,
          true,
        ],
      ],
    );
  });

  it("writes a VLAN's dot the way sysctl does, and keeps it literal in the path", () => {
    const [first] = localModeSysctls("eth0.100");
    assert.equal(first?.name, "net.ipv4.conf.eth0/100.arp_ignore");
    assert.equal(first?.path, "net/ipv4/conf/eth0.100/arp_ignore");
  });
});

describe("evaluateSysctls", () => {
  const requirements = localModeSysctls("eth0");
  const values = (entries: Record<string, number | undefined>) => new Map(Object.entries(entries));
  const satisfied = (found: ReturnType<typeof evaluateSysctls>) =>
    found.map((f) => [f.requirement.name.split(".").at(-1), f.satisfied]);

  it("kernel defaults (all zero) satisfy nothing", () => {
    const found = evaluateSysctls(
      requirements,
      values({
        "net/ipv4/conf/eth0/arp_ignore": 0,
        "net/ipv4/conf/all/arp_ignore": 0,
        "net/ipv4/conf/eth0/arp_announce": 0,
        "net/ipv4/conf/all/arp_announce": 0,
        "net/ipv6/conf/eth0/ndisc_notify": 0,
        "net/ipv6/conf/all/ndisc_notify": 0,
      }),
    );
    assert.deepEqual(satisfied(found), [
      ["arp_ignore", false],
      ["arp_announce", false],
      ["ndisc_notify", false],
    ]);
    assert.equal(
      found[0]?.message,
      "net.ipv4.conf.eth0.arp_ignore is 0 (all: 0); local mode needs at least 1 so that " +
        "the node answers ARP only for addresses on the receiving interface",
    );
  });

  it("the larger of the interface's and `all`'s value counts (kube-proxy strictARP sets all)", () => {
    const found = evaluateSysctls(
      requirements,
      values({
        "net/ipv4/conf/eth0/arp_ignore": 0,
        "net/ipv4/conf/all/arp_ignore": 1,
        "net/ipv4/conf/eth0/arp_announce": 2,
        "net/ipv4/conf/all/arp_announce": 0,
        "net/ipv6/conf/eth0/ndisc_notify": 0,
        "net/ipv6/conf/all/ndisc_notify": 1,
      }),
    );
    assert.deepEqual(satisfied(found), [
      ["arp_ignore", true],
      ["arp_announce", true],
      ["ndisc_notify", true],
    ]);
  });

  it("more than the minimum is fine (arp_ignore=2 is stricter still)", () => {
    const found = evaluateSysctls(
      requirements.slice(0, 1),
      values({ "net/ipv4/conf/eth0/arp_ignore": 2, "net/ipv4/conf/all/arp_ignore": 0 }),
    );
    assert.equal(found[0]?.satisfied, true);
  });

  it("IPv6 off on the interface: ndisc_notify does not matter; a missing IPv4 key does", () => {
    const found = evaluateSysctls(
      requirements,
      values({ "net/ipv4/conf/eth0/arp_ignore": 1, "net/ipv4/conf/eth0/arp_announce": 2 }),
    );
    assert.deepEqual(satisfied(found), [
      ["arp_ignore", true],
      ["arp_announce", true],
      ["ndisc_notify", true],
    ]);
    const missing = evaluateSysctls(requirements, values({}));
    assert.equal(missing[0]?.satisfied, false);
    assert.match(missing[0]?.message ?? "", /does not exist: is there such an interface/);
  });
});
