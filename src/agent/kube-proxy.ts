// kube-proxy in IPVS mode binds every Service address to its kube-ipvs0 device; without
// strictARP the node then answers ARP for every LoadBalancer address, and the network
// learns the wrong node (MetalLB and kube-vip document the same requirement).

/**
 * Reads the kube-proxy ConfigMap's `config.conf` (a KubeProxyConfiguration) and returns
 * the problem, or undefined when kube-proxy is not in IPVS mode or has strictARP on.
 */
export function ipvsStrictArpProblem(
  data: Readonly<Record<string, string>>,
  parseYaml: (text: string) => unknown,
): string | undefined {
  const text = data["config.conf"];
  if (text === undefined) return undefined;
  let config: { mode?: unknown; ipvs?: { strictARP?: unknown } } | undefined;
  try {
    config = parseYaml(text) as typeof config;
  } catch {
    return undefined;
  }
  if (config?.mode !== "ipvs") return undefined;
  if (config.ipvs?.strictARP === true) return undefined;
  return (
    "kube-proxy runs in IPVS mode without strictARP, so every node answers ARP for every " +
    "LoadBalancer address: set ipvs.strictARP: true in the kube-system/kube-proxy ConfigMap"
  );
}
