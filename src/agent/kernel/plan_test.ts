import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { iface } from "../../../test/kernel-interfaces.ts";
import { planAddressChanges, type AddressAssignment, type AddressPlan } from "./plan.ts";

const on = (name: string, cidr: string): AddressAssignment => {
  const [address = "", length = ""] = cidr.split("/");
  return { interface: name, address, prefixLength: Number(length) };
};

const cases: {
  name: string;
  desired: AddressAssignment[];
  actual: ReturnType<typeof iface>[];
  want: AddressPlan;
}[] = [
  {
    name: "nothing desired, nothing owned",
    desired: [],
    actual: [iface("eth0", ["10.0.0.10/24"])],
    want: { remove: [], add: [] },
  },
  {
    name: "adds what is missing",
    desired: [on("eth0", "10.0.0.50/32"), on("eth0", "fd00:10::50/128")],
    actual: [iface("eth0", ["10.0.0.10/24", "fd00:10::10/64"])],
    want: { remove: [], add: [on("eth0", "10.0.0.50/32"), on("eth0", "fd00:10::50/128")] },
  },
  {
    name: "already in place: nothing to do (idempotent)",
    desired: [on("eth0", "10.0.0.50/32"), on("eth0", "fd00:10::50/128")],
    actual: [iface("eth0", ["10.0.0.10/24", "10.0.0.50/32 owned", "fd00:10::50/128 owned"])],
    want: { remove: [], add: [] },
  },
  {
    name: "removes owned addresses no longer desired",
    desired: [on("eth0", "10.0.0.50/32")],
    actual: [iface("eth0", ["10.0.0.10/24", "10.0.0.50/32 owned", "10.0.0.51/32 owned"])],
    want: { remove: [on("eth0", "10.0.0.51/32")], add: [] },
  },
  {
    name: "never removes an address that is not owned",
    desired: [],
    actual: [
      iface("eth0", ["10.0.0.10/24", "10.0.0.60/32", "fd00:10::60/128"]),
      iface("lo", ["127.0.0.1/8", "::1/128"], { loopback: true }),
    ],
    want: { remove: [], add: [] },
  },
  {
    name: "an address the operator put on the right interface is left alone, not added",
    desired: [on("eth0", "10.0.0.60/32"), on("eth0", "fd00:10::60/128")],
    actual: [iface("eth0", ["10.0.0.10/24", "10.0.0.60/24", "fd00:10::60/64"])],
    want: { remove: [], add: [] },
  },
  {
    name: "the operator's copy on another interface does not count",
    desired: [on("eth0", "10.0.0.60/32")],
    actual: [iface("eth0", ["10.0.0.10/24"]), iface("eth1", ["10.0.0.60/32"])],
    want: { remove: [], add: [on("eth0", "10.0.0.60/32")] },
  },
  {
    name: "an owned address desired on another interface moves: remove and add",
    desired: [on("eth1", "10.0.0.50/32")],
    actual: [iface("eth0", ["10.0.0.50/32 owned"]), iface("eth1", ["10.0.0.11/24"])],
    want: { remove: [on("eth0", "10.0.0.50/32")], add: [on("eth1", "10.0.0.50/32")] },
  },
  {
    name: "a changed aggregation prefix is remove and add",
    desired: [on("kube-lb0", "203.0.113.0/25"), on("kube-lb0", "2001:db8:5::/64")],
    actual: [iface("kube-lb0", ["203.0.113.0/24 owned", "2001:db8:5::/64 owned"])],
    want: { remove: [on("kube-lb0", "203.0.113.0/24")], add: [on("kube-lb0", "203.0.113.0/25")] },
  },
  {
    name: "desired addresses are compared canonically and deduplicated",
    desired: [
      on("eth0", "FD00:10:0:0::50/128"),
      on("eth0", "fd00:10::50/128"),
      on("eth0", "fd00:10::51/128"),
      on("eth0", "fd00:10::51/128"),
    ],
    actual: [iface("eth0", ["fd00:10::50/128 owned"])],
    want: { remove: [], add: [on("eth0", "fd00:10::51/128")] },
  },
  {
    name: "owned addresses on several interfaces, IPv4 and IPv6",
    desired: [on("eth0", "10.0.0.50/32"), on("bond0", "fd00:20::7/128")],
    actual: [
      iface("eth0", ["10.0.0.10/24", "10.0.0.50/32 owned", "fd00:10::9/128 owned"]),
      iface("bond0", ["fd00:20::1/64", "10.1.0.9/32 owned"]),
    ],
    want: {
      remove: [on("eth0", "fd00:10::9/128"), on("bond0", "10.1.0.9/32")],
      add: [on("bond0", "fd00:20::7/128")],
    },
  },
];

describe("planAddressChanges", () => {
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(planAddressChanges(c.desired, c.actual), c.want);
    });
  }

  it("refuses a desired address that is not one: a programming error", () => {
    assert.throws(() => planAddressChanges([on("eth0", "10.0.0/32")], []), /not an IP address/);
  });
});
