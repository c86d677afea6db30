import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AddressDecision } from "./announcements.ts";
import { iface } from "../../test/kernel-interfaces.ts";
import {
  activeHandoffs,
  handoffRules,
  HANDOFF_SLACK_MS,
  nextHandoffs,
  type HandoffInputs,
} from "./flow-handoff.ts";

const decision = (address: string, family: "IPv4" | "IPv6" = "IPv4"): AddressDecision => ({
  address,
  family,
  services: ["default/web"],
  pool: "lan",
  mode: "Local",
  announcer: "node1",
  interface: "eth0",
});

function inputs(changes: Partial<HandoffInputs> = {}): HandoffInputs {
  return {
    now: 1_000_000,
    drainMs: 2000,
    current: new Map(),
    local: [decision("192.0.2.10")],
    added: new Set(["192.0.2.10"]),
    announcedBy: new Map([["192.0.2.10", new Set(["node2"])]]),
    alive: new Set(["node1", "node2", "node3"]),
    interfaces: [iface("eth0", ["192.0.2.1/24", "2001:db8::1/64"])],
    published: new Map([
      ["node2", [{ name: "ens3", subnets: ["198.51.100.2/24", "192.0.2.2/24", "2001:db8::2/64"] }]],
      ["node3", [{ name: "eth0", subnets: ["192.0.2.3/24"] }]],
    ]),
    routed: [],
    routedBy: new Map(),
    leaving: new Set(),
    gracefulShutdownMs: 3000,
    ...changes,
  };
}

describe("nextHandoffs", () => {
  it("passes a taken address's connections to the live old holder's address on the link", () => {
    const handoffs = nextHandoffs(inputs());
    assert.deepEqual(
      [...handoffs.values()],
      [
        {
          address: "192.0.2.10",
          from: "eth0",
          node: "node2",
          to: [{ via: "192.0.2.2", device: "eth0" }],
          until: 1_000_000 + 2000 + HANDOFF_SLACK_MS,
        },
      ],
    );
    const v6 = nextHandoffs(
      inputs({
        local: [decision("2001:db8::10", "IPv6")],
        added: new Set(["2001:db8::10"]),
        announcedBy: new Map([["2001:db8::10", new Set(["node2"])]]),
      }),
    );
    assert.deepEqual(v6.get("2001:db8::10")?.to, [{ via: "2001:db8::2", device: "eth0" }]);
  });

  it("passes nothing to a dead holder, a holder off the link, or when drains are off", () => {
    assert.equal(nextHandoffs(inputs({ alive: new Set(["node1"]) })).size, 0);
    const offLink = new Map([["node2", [{ name: "eth0", subnets: ["198.51.100.2/24"] }]]]);
    assert.equal(nextHandoffs(inputs({ published: offLink })).size, 0);
    assert.equal(nextHandoffs(inputs({ published: new Map() })).size, 0);
    assert.equal(nextHandoffs(inputs({ drainMs: 0 })).size, 0);
    // Nobody else held it (a first announcement): nothing to pass on.
    assert.equal(nextHandoffs(inputs({ announcedBy: new Map() })).size, 0);
    // Announced before, not now: no handoff begins later.
    assert.equal(nextHandoffs(inputs({ added: new Set() })).size, 0);
  });

  it("lasts while the old holder still publishes the address, at most until its end", () => {
    const started = nextHandoffs(inputs());
    const carry = (changes: Partial<HandoffInputs>) => {
      const next = nextHandoffs(inputs({ current: started, added: new Set(), ...changes }));
      return activeHandoffs(next, changes.now ?? 1_000_000).length;
    };
    assert.equal(carry({ now: 1_001_000 }), 1);
    assert.equal(carry({ now: 1_000_000 + 2000 + HANDOFF_SLACK_MS }), 0, "past its end");
    assert.equal(carry({ announcedBy: new Map() }), 0, "the old holder let go");
    assert.equal(carry({ alive: new Set(["node1"]) }), 0, "the old holder died");
    assert.equal(carry({ local: [] }), 0, "the address left this node");
  });

  it("routed: copies to a leaving node that still routes the address, and to the others, once", () => {
    const routed = {
      ...decision("203.0.113.7"),
      mode: "Routed" as const,
      announcer: undefined,
      interface: undefined,
      routedBy: ["node1", "node3"],
    };
    const base = {
      local: [],
      added: new Set<string>(),
      routed: [routed],
      routedBy: new Map([["203.0.113.7", new Set(["node2", "node3"])]]),
    };
    assert.equal(nextHandoffs(inputs(base)).size, 0, "nobody is leaving");
    const started = nextHandoffs(inputs({ ...base, leaving: new Set(["node2"]) }));
    assert.deepEqual(
      [...started.values()],
      [
        {
          address: "203.0.113.7",
          node: "node2",
          // The leaving node first; node3 too: the router may have moved a flow of its here.
          to: [
            { via: "192.0.2.2", device: "eth0" },
            { via: "192.0.2.3", device: "eth0" },
          ],
          until: 1_000_000 + 3000 + 2000 + HANDOFF_SLACK_MS,
        },
      ],
    );
    const later = (now: number, changes: Partial<HandoffInputs> = {}) =>
      nextHandoffs(
        inputs({ ...base, leaving: new Set(["node2"]), current: started, now, ...changes }),
      );
    assert.equal(activeHandoffs(later(1_004_000), 1_004_000).length, 1);
    // Past its end while node2 still routes it: spent, and not begun again.
    const spent = later(1_000_000 + 3000 + 2000 + HANDOFF_SLACK_MS);
    assert.equal(spent.size, 1);
    assert.equal(activeHandoffs(spent, 1_000_000 + 3000 + 2000 + HANDOFF_SLACK_MS).length, 0);
    assert.equal(later(1_001_000, { routedBy: new Map() }).size, 0, "node2 withdrew it");
  });

  it("rules: forwards the active handoffs, silences drained addresses", () => {
    const local = nextHandoffs(inputs());
    const routed = {
      ...decision("203.0.113.7"),
      mode: "Routed" as const,
      interface: undefined,
    };
    const passing = nextHandoffs(
      inputs({
        local: [],
        added: new Set(),
        routed: [routed],
        routedBy: new Map([["203.0.113.7", new Set(["node2"])]]),
        leaving: new Set(["node2"]),
      }),
    );
    const active = [...local.values(), ...passing.values()];
    const draining = { ...decision("192.0.2.20"), handingOverTo: "node2", draining: true };
    const rules = handoffRules(active, [decision("192.0.2.10"), draining]);
    assert.deepEqual(rules.forwards, active);
    assert.deepEqual(rules.silenced, [{ address: "192.0.2.20", interface: "eth0" }]);
  });
});
