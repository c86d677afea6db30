// Reading birdc's replies, on output captured from a real BIRD 2.0.12 (fixtures.ts).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SHOW_PROTOCOLS_ALL, SHOW_PROTOCOLS_DISABLED } from "../../../test/birdc-output.ts";
import { parseBgpSessions, parseConfigureReply, sessionState, sinceToISO } from "./status.ts";

describe("parseBgpSessions", () => {
  it("reads every BGP session, named by its BGPPeer, with state, since, prefixes sent and last error", () => {
    assert.deepEqual(parseBgpSessions(SHOW_PROTOCOLS_ALL), [
      { peer: "b-v4", state: "Established", since: "2026-11-21T13:25:33Z", prefixesSent: 2 },
      { peer: "b-wrong", state: "Connect", since: "2026-11-21T13:25:29Z", prefixesSent: 0 },
      {
        peer: "tor.rack-1",
        state: "Active",
        since: "2026-11-21T13:25:29Z",
        prefixesSent: 0,
        lastError: "Socket: No route to host",
      },
    ]);
  });

  it("reports a disabled protocol as Idle", () => {
    assert.deepEqual(parseBgpSessions(SHOW_PROTOCOLS_DISABLED), [
      { peer: "tor.rack-1", state: "Idle", since: "2026-11-21T13:25:41Z", prefixesSent: 0 },
    ]);
  });

  it("falls back to the protocol name and the Info column without details", () => {
    const output = [
      "BIRD 2.0.12 ready.",
      "Name       Proto      Table      State  Since         Info",
      "device1    Device     ---        up     2026-11-21T13:25:29+0000  ",
      "peer_x     BGP        ---        start  13:25:29.123  OpenSent   ",
      "",
    ].join("\n");
    assert.deepEqual(parseBgpSessions(output), [
      { peer: "peer_x", state: "OpenSent", prefixesSent: 0 },
    ]);
  });

  it("reads nothing from an empty reply", () => {
    assert.deepEqual(parseBgpSessions("BIRD 2.0.12 ready.\n"), []);
  });
});

describe("sessionState", () => {
  it("maps BIRD's extra states onto RFC 4271's", () => {
    assert.equal(sessionState("Established"), "Established");
    assert.equal(sessionState("OpenConfirm"), "OpenConfirm");
    assert.equal(sessionState("Passive"), "Active");
    assert.equal(sessionState("Down"), "Idle");
    assert.equal(sessionState("Close"), "Idle");
    assert.equal(sessionState(undefined), "Idle");
  });
});

describe("sinceToISO", () => {
  it("converts BIRD's zoned time to UTC", () => {
    assert.equal(sinceToISO("2026-11-21T13:25:33+0000"), "2026-11-21T13:25:33Z");
    assert.equal(sinceToISO("2026-11-21T15:25:33+0200"), "2026-11-21T13:25:33Z");
    assert.equal(sinceToISO("2026-11-21T08:55:33-0430"), "2026-11-21T13:25:33Z");
  });

  it("gives nothing for BIRD's default formats, which lack the date or the zone", () => {
    assert.equal(sinceToISO("13:25:33.123"), undefined);
    assert.equal(sinceToISO("2026-11-21"), undefined);
  });
});

describe("parseConfigureReply", () => {
  it("accepts BIRD's replies for a configuration taken", () => {
    for (const reply of [
      "Reconfigured",
      "Reconfiguration in progress",
      "Reconfiguration already in progress, queueing new config",
      "Nothing to do",
    ]) {
      assert.deepEqual(
        parseConfigureReply(`BIRD 2.0.12 ready.\nReading configuration from /x.conf\n${reply}\n`),
        { ok: true },
      );
    }
  });

  it("returns what BIRD said otherwise", () => {
    assert.deepEqual(
      parseConfigureReply(
        "BIRD 2.0.12 ready.\nReading configuration from a.conf\na.conf:31:1 syntax error, unexpected GARBAGE\n",
      ),
      { error: "a.conf:31:1 syntax error, unexpected GARBAGE" },
    );
    assert.deepEqual(parseConfigureReply("BIRD 2.0.12 ready.\n"), {
      error: "BIRD gave no reply to configure",
    });
  });
});
