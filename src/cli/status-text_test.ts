import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cluster, input, malformed, NOW } from "../../test/status-objects.ts";
import { compactCount } from "./status-summary.ts";
import { formatDuration, statusText } from "./status-text.ts";
import { statusView } from "./status-view.ts";

describe("statusText", () => {
  it("renders an empty cluster", () => {
    const text = statusText(statusView(input()), NOW);
    assert.equal(
      text,
      [
        "0 pools, 0/0 addresses used; 0 services served, 0 waiting; 0 nodes\n",
        "POOLS\nno AddressPools: no service can get an address\n",
        "NODES\nno NodeStates: no agent has reported\n",
      ].join("\n"),
    );
  });

  it("renders a view made from malformed objects", () => {
    const text = statusText(statusView(malformed()), NOW);
    assert.match(text, /^\d+ pools/);
    assert.match(text, /POOLS/);
  });

  it("prints the summary first, then a section per concern", () => {
    const text = statusText(statusView(cluster()), NOW);
    // Each section follows a blank line and starts with its heading.
    const lines = text.split("\n");
    const headings = lines.filter((line, i) => i > 0 && lines[i - 1] === "" && line !== "");
    assert.deepEqual(headings, [
      "POOLS",
      "WAITING FOR AN ADDRESS",
      "NOT ANNOUNCED (no node says it announces these)",
      "ANNOUNCEMENTS",
      "NODES",
      "BGP SESSIONS",
    ]);
    assert.match(text, /^lan +Local +192\.168\.10\.240-192\.168\.10\.250 +3\/11 +- +8 +Ready$/m);
    assert.match(text, /^v6 +Routed +2001:db8:10::\/64 +- +1\/2\^64 +~1\.8e19 +Ready$/m);
    assert.match(text, /^team-a\/big +- +PoolExhausted +pool lan is full$/m);
    assert.match(
      text,
      /^default\/db +192\.168\.10\.241 +192\.168\.10\.241 is not announced: no serving endpoint \(2m ago\)$/m,
    );
    assert.match(
      text,
      /^192\.168\.10\.242 +default\/moved +Local +node2 eth0 +NodeState node2 does not list it$/m,
    );
    assert.match(text, /^ {2}node2: RoutingReady=False \(ConfigRefused\): bird: syntax error$/m);
    assert.match(text, /^ {2}node3 looks stale: dead to 2 of 2 peers' failure detectors$/m);
    assert.match(text, /^ {2}no NodeState \(no agent has reported\) from: node4$/m);
    assert.match(text, /^node1 +router +Established +2h2m +1\/0 +-$/m);
    assert.match(text, /^node2 +router +Active +12s +-\/- +BGP Error: Bad peer AS$/m);
    assert.match(text, /^node1 +1 local +1\/1 +2 alive, dead: node3 +5m ago$/m);
  });
});

describe("compactCount and formatDuration", () => {
  it("writes big counts as powers of two or two digits", () => {
    assert.equal(compactCount("254"), "254");
    assert.equal(compactCount("4294967296"), "4294967296");
    assert.equal(compactCount("18446744073709551616"), "2^64");
    assert.equal(compactCount("18446744073709551615"), "~1.8e19");
    assert.equal(compactCount("-1"), "?");
  });

  it("writes ages as kubectl does", () => {
    assert.equal(formatDuration(12), "12s");
    assert.equal(formatDuration(125), "2m5s");
    assert.equal(formatDuration(1800), "30m");
    assert.equal(formatDuration(7320), "2h2m");
    assert.equal(formatDuration(90000), "1d1h");
  });
});
