import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseRange, type AddressRange } from "../ipam/range.ts";
import { aggregationProblem, convertEntry, withoutFirstAndLast } from "./addresses.ts";

const range = (text: string) => (parseRange(text) as { range: AddressRange }).range;

describe("convertEntry", () => {
  it("keeps valid entries, compacting spaces around a range's dash", () => {
    assert.equal((convertEntry(" 10.0.0.0/24 ") as { entry: string }).entry, "10.0.0.0/24");
    assert.equal(
      (convertEntry("10.0.0.1 - 10.0.0.9") as { entry: string }).entry,
      "10.0.0.1-10.0.0.9",
    );
    assert.equal((convertEntry("2001:db8::1") as { entry: string }).entry, "2001:db8::1");
  });

  it("writes the network a peer used for a CIDR with host bits, with a note", () => {
    const converted = convertEntry("192.168.1.77/24") as { entry: string; note: string };
    assert.equal(converted.entry, "192.168.1.0/24");
    assert.match(converted.note, /has host bits set; the peer used the network 192.168.1.0\/24/);
    assert.equal((convertEntry("2001:db8::5/64") as { entry: string }).entry, "2001:db8::/64");
  });

  it("says what is wrong with anything else", () => {
    const error = (text: string) => (convertEntry(text) as { error: string }).error;
    assert.match(error(""), /empty/);
    assert.match(error("10.0.0.0/40"), /prefix length 40; IPv4 allows 0 to 32/);
    assert.match(error("10.0.0.0/24/1"), /is not a CIDR/);
    assert.match(error("10.0.0.1-2001:db8::1"), /mixes an IPv4 and an IPv6 address/);
    assert.match(error("host.example"), /not an IPv4 or IPv6 address/);
  });
});

describe("withoutFirstAndLast (Cilium's allowFirstLastIPs: No)", () => {
  it("drops the network and broadcast addresses, except from /31, /32, /127, /128", () => {
    assert.equal(withoutFirstAndLast(range("10.0.0.0/24")), "10.0.0.1-10.0.0.254");
    assert.equal(withoutFirstAndLast(range("10.0.0.0/30")), "10.0.0.1-10.0.0.2");
    assert.equal(withoutFirstAndLast(range("10.0.0.0/31")), "10.0.0.0/31");
    assert.equal(withoutFirstAndLast(range("10.0.0.7/32")), "10.0.0.7");
    assert.equal(withoutFirstAndLast(range("2001:db8::/126")), "2001:db8::1-2001:db8::2");
  });
});

describe("aggregationProblem", () => {
  it("accepts a prefix whose blocks stay inside every range of the family", () => {
    assert.equal(aggregationProblem([range("10.0.0.0/24")], "IPv4", 26), undefined);
    assert.equal(aggregationProblem([range("10.0.0.0-10.0.0.127")], "IPv4", 25), undefined);
    assert.equal(aggregationProblem([range("2001:db8::/64")], "IPv4", 8), undefined);
  });

  it("refuses one that would announce addresses outside the pool", () => {
    assert.match(
      aggregationProblem([range("10.0.0.0/24")], "IPv4", 16)!,
      /\/16 blocks around addresses of 10.0.0.0\/24 reach outside it/,
    );
    assert.match(aggregationProblem([range("10.0.0.10-10.0.0.20")], "IPv4", 28)!, /reach outside/);
    assert.match(aggregationProblem([], "IPv6", 129)!, /not a IPv6 prefix length|is not a IPv6/);
  });
});
