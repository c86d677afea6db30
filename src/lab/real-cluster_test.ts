import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { unsupportedProxyMode } from "./real-cluster.ts";

describe("unsupportedProxyMode", () => {
  it("runs nftables and iptables on any kernel", () => {
    assert.equal(unsupportedProxyMode("nftables", false), undefined);
    assert.equal(unsupportedProxyMode("iptables", false), undefined);
  });

  it("refuses IPVS, naming the kernel option when the kernel lacks it", () => {
    assert.match(unsupportedProxyMode("ipvs", false)!, /CONFIG_IP_VS.*\/proc\/net\/ip_vs/);
    assert.doesNotMatch(unsupportedProxyMode("ipvs", true)!, /CONFIG_IP_VS/);
    assert.match(unsupportedProxyMode("userspace", true)!, /unknown kube-proxy mode "userspace"/);
  });
});
