import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { birdProtocolStates, frrNeighborStates, gobgpNeighborStates } from "./router-sessions.ts";

describe("router session parsers", () => {
  it("reads BGP protocols from birdc show protocols, with the state word of each", () => {
    const text = [
      "BIRD 2.0.12 ready.",
      "Name       Proto      Table      State  Since         Info",
      "device1    Device     ---        up     2026-11-21T13:30:16  ",
      "kernel_ipv4 Kernel     master4    up     2026-11-21T13:30:16  ",
      "node1_v4   BGP        ---        up     2026-11-21T13:30:17  Established   ",
      "node2_v4   BGP        ---        start  2026-11-21T13:30:16  Passive       ",
      "node2_v6   BGP        ---        start  2026-11-21T13:30:16  Idle          Error: BFD session down",
      "node3_v4   BGP        ---        down   2026-11-21T13:30:16",
    ].join("\n");
    assert.deepEqual(
      [...birdProtocolStates(text)],
      [
        ["node1_v4", { state: "Established", since: "2026-11-21T13:30:17" }],
        ["node2_v4", { state: "Passive", since: "2026-11-21T13:30:16" }],
        ["node2_v6", { state: "Idle", since: "2026-11-21T13:30:16" }],
        ["node3_v4", { state: "down", since: "2026-11-21T13:30:16" }],
      ],
    );
  });

  it("reads gobgp neighbor -j, numeric or named states", () => {
    const json = JSON.stringify([
      {
        conf: { neighbor_address: "198.18.0.11" },
        state: { session_state: 6 },
        timers: { state: { uptime: { seconds: 1795271376 }, downtime: { seconds: 1795271370 } } },
      },
      { conf: { neighbor_address: "fd48:4c42:0::12" }, state: { session_state: 3 } },
      { state: { neighbor_address: "198.18.0.13", session_state: "ESTABLISHED" } },
      { conf: { neighbor_address: "198.18.0.14" }, state: {} },
    ]);
    assert.deepEqual(
      [...gobgpNeighborStates(json)],
      [
        ["198.18.0.11", { state: "Established", since: "1795271376/1795271370" }],
        ["fd48:4c42::12", { state: "Active", since: "/" }],
        ["198.18.0.13", { state: "Established", since: "/" }],
        ["198.18.0.14", { state: "Unknown", since: "/" }],
      ],
    );
  });

  it("reads vtysh show bgp neighbors json", () => {
    const json = JSON.stringify({
      "198.18.0.11": {
        remoteAs: 64513,
        bgpState: "Established",
        bgpTimerUpEstablishedEpoch: 1795271376,
        connectionsEstablished: 2,
        connectionsDropped: 1,
      },
      "fd48:4c42::12": { remoteAs: 64513, bgpState: "Active" },
    });
    assert.deepEqual(
      [...frrNeighborStates(json)],
      [
        ["198.18.0.11", { state: "Established", since: "2/1" }],
        ["fd48:4c42::12", { state: "Active", since: "0/0" }],
      ],
    );
    assert.deepEqual([...frrNeighborStates("")], []);
  });
});
