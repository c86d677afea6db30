// The sysctls local mode needs on an interface that carries local addresses, and how to
// tell whether the kernel already has them. The kernel combines each per-interface value
// with the `all` one (the larger wins for all three), so either may already satisfy it.

export interface SysctlRequirement {
  /** As `sysctl` writes it: dots between components, "/" for a dot inside a name (eth0/100). */
  readonly name: string;
  /** Path under /proc/sys, which `sysctl` also accepts and which needs no escaping. */
  readonly path: string;
  /** The `all` counterpart the kernel combines with the interface's own value. */
  readonly allPath: string;
  /** Least effective value local mode needs. */
  readonly minimum: number;
  /** May be absent: IPv6 can be disabled on an interface, and then the key does not exist. */
  readonly optional: boolean;
  readonly why: string;
}

/**
 * arp_ignore=1: answer ARP only for addresses on the receiving interface. Without it the node
 * answers on eth0 for addresses held on any interface — kube-proxy's kube-ipvs0, kube-lb0 —
 * and every node claims every address.
 * arp_announce=2: take an ARP request's source from the outgoing interface's own addresses,
 * so a neighbour never learns a load-balancer address from a node that is not its holder.
 * ndisc_notify=1: the kernel sends unsolicited neighbour advertisements for the interface's
 * addresses when its link-layer address changes, and for an address once its DAD succeeds.
 * It sends none for an address added with nodad, as the agent adds them (verified on 6.18:
 * nodad addresses are never tentative, and only a tentative one gets the advertisement),
 * so the agent solicits the neighbours itself; see announce.ts.
 */
export function localModeSysctls(iface: string): SysctlRequirement[] {
  const ipv4 = (key: string, minimum: number, why: string) =>
    requirement("ipv4", iface, key, minimum, why);
  return [
    ipv4("arp_ignore", 1, "the node answers ARP only for addresses on the receiving interface"),
    ipv4("arp_announce", 2, "ARP requests use a source address of the outgoing interface"),
    requirement(
      "ipv6",
      iface,
      "ndisc_notify",
      1,
      "the kernel advertises the interface's addresses when its link-layer address changes",
    ),
  ];
}

function requirement(
  family: "ipv4" | "ipv6",
  iface: string,
  key: string,
  minimum: number,
  why: string,
): SysctlRequirement {
  return {
    optional: family === "ipv6",
    name: `net.${family}.conf.${iface.replaceAll(".", "/")}.${key}`,
    path: `net/${family}/conf/${iface}/${key}`,
    allPath: `net/${family}/conf/all/${key}`,
    minimum,
    why,
  };
}

export interface SysctlFinding {
  readonly requirement: SysctlRequirement;
  /** undefined: the key does not exist (IPv6 off on the interface, or no such interface). */
  readonly interfaceValue: number | undefined;
  readonly allValue: number | undefined;
  readonly satisfied: boolean;
  /** For a warning or a NodeState condition. */
  readonly message: string;
}

/** Judges requirements against values read from the kernel, keyed by path. */
export function evaluateSysctls(
  requirements: readonly SysctlRequirement[],
  values: ReadonlyMap<string, number | undefined>,
): SysctlFinding[] {
  return requirements.map((r) => {
    const interfaceValue = values.get(r.path);
    const allValue = values.get(r.allPath);
    // A missing optional key cannot be set and does not matter: IPv6 is off there.
    const satisfied =
      interfaceValue === undefined
        ? r.optional
        : Math.max(interfaceValue, allValue ?? 0) >= r.minimum;
    const message =
      interfaceValue === undefined
        ? r.optional
          ? `${r.name} does not exist (IPv6 is off on the interface); not needed`
          : `${r.name} does not exist: is there such an interface?`
        : satisfied
          ? `${r.name} is ${interfaceValue} (all: ${allValue ?? "absent"}): ${r.why}`
          : `${r.name} is ${interfaceValue} (all: ${allValue ?? "absent"}); local mode needs ` +
            `at least ${r.minimum} so that ${r.why}`;
    return { requirement: r, interfaceValue, allValue, satisfied, message };
  });
}

/** What ensureSysctls wrote. */
export interface SysctlChange {
  readonly name: string;
  readonly from: number;
  readonly to: number;
}
