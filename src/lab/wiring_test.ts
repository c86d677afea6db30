import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { topology } from "./topology.ts";
import { buildPhases, type Command } from "./wiring.ts";

const render = (command: Command) =>
  "ip" in command
    ? `${command.namespace ?? "host"}: ip ${command.ip.join(" ")}`
    : `${command.namespace ?? "host"}: sysctl ${Object.entries(command.sysctl)
        .map(([key, value]) => `${key}=${value}`)
        .join(" ")}`;

describe("buildPhases", () => {
  const phases = buildPhases(topology({ name: "lab", nodes: 2, ipv6: true, index: 0 }));
  const all = phases.flat(2).map(render);

  it("makes namespaces, then settings and the bridge, then links, then routes", () => {
    assert.equal(phases.length, 4);
    assert.ok(
      phases[0]!.flat().every((command) => render(command).startsWith("host: ip netns add")),
    );
    assert.ok(phases[3]!.flat().every((command) => render(command).includes("route add default")));
  });

  it("builds each node's link with its MAC, addresses (IPv6 without DAD) and the bridge port", () => {
    const node1 = phases[2]!.find((sequence) => render(sequence[0]!).startsWith("hl-lab-node1:"))!;
    assert.deepEqual(node1.map(render), [
      "hl-lab-node1: ip link add eth0 address 02:48:4c:00:00:0b type veth peer name node1 netns hl-lab-lan",
      "hl-lab-node1: ip addr add 198.18.0.11/24 dev eth0",
      "hl-lab-node1: ip addr add fd48:4c42::11/64 dev eth0 nodad",
      "hl-lab-node1: ip link set eth0 up",
      "hl-lab-lan: ip link set node1 master br0 up",
    ]);
  });

  it("sets the host end's sysctls before it comes up", () => {
    const host = phases[2]!.find((sequence) => render(sequence[0]!).startsWith("host:"))!;
    const rendered = host.map(render);
    assert.equal(
      rendered[0],
      "host: ip link add hl0-host address 02:48:4c:00:00:02 type veth peer name host netns hl-lab-lan",
    );
    assert.match(
      rendered[1]!,
      /^host: sysctl net\.ipv4\.conf\.hl0-host\.rp_filter=2 .*accept_dad=0/,
    );
    assert.ok(rendered.indexOf("host: ip link set hl0-host up") > 1);
  });

  it("makes the bridge forward at once and flood multicast", () => {
    assert.ok(
      all.includes(
        "hl-lab-lan: ip link add br0 type bridge forward_delay 0 stp_state 0 mcast_snooping 0",
      ),
    );
  });

  it("links router and client directly, and routes both families by default through it", () => {
    assert.ok(
      all.includes(
        "hl-lab-router: ip link add eth1 address 02:48:4c:00:01:01 type veth peer name eth0 address 02:48:4c:00:01:02 netns hl-lab-client",
      ),
    );
    assert.ok(all.includes("hl-lab-client: ip -4 route add default via 198.18.1.1"));
    assert.ok(all.includes("hl-lab-client: ip -6 route add default via fd48:4c42:0:1::1"));
    assert.ok(all.includes("hl-lab-node2: ip -6 route add default via fd48:4c42::1"));
  });
});
