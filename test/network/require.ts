// The network tier needs root and a few programs. Missing either is a failure with the
// fix in its message, never a silent skip: CI provides both (scripts/test.sh).
import { execFileSync } from "node:child_process";
import assert from "node:assert/strict";

const PACKAGES: Record<string, string> = {
  ip: "iproute2",
  arping: "arping",
  ndisc6: "ndisc6",
  curl: "curl",
  tcpdump: "tcpdump",
  bird: "bird2",
  vtysh: "frr",
  gobgpd: "gobgpd",
  nft: "nftables",
  iptables: "iptables",
};

export function requireNetworkTier(programs: readonly string[]): void {
  assert.equal(
    process.getuid?.(),
    0,
    "network tests build namespaces and must run as root (sudo ./scripts/test.sh)",
  );
  for (const program of programs) {
    try {
      execFileSync("sh", ["-c", `command -v ${program}`], { stdio: "ignore" });
    } catch {
      assert.fail(`${program} is missing: apt-get install ${PACKAGES[program] ?? program}`);
    }
  }
}
