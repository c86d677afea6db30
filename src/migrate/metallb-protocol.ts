// Before its advertisement CRDs, MetalLB gave each pool a `protocol` (the ConfigMap and the
// deprecated AddressPool kind). Such a pool is the same as a pool plus one advertisement of
// that protocol selecting only it, which is how it enters the model.
import type { MetalLBBGPAdvertisement, MetalLBConfig, MetalLBPool } from "./metallb-model.ts";
import type { FieldReader } from "./reader.ts";

export function addProtocolPool(
  config: MetalLBConfig,
  pool: MetalLBPool,
  protocol: string | undefined,
  reader: FieldReader,
  bgpAdvertisements: readonly MetalLBBGPAdvertisement[],
): void {
  config.pools.push(pool);
  const only = [pool.name];
  // "arp" is what MetalLB 0.2 called layer2.
  if (protocol === "layer2" || protocol === "arp") {
    config.l2Advertisements.push({ reader, spelling: pool.spelling, name: pool.name, pools: only });
    if (bgpAdvertisements.length > 0) {
      reader.warn(
        pool.spelling.bgpAdvertisements,
        "belong to a layer2 pool, where MetalLB ignored them; left out",
      );
    }
  } else if (protocol === "bgp") {
    // A BGP pool without advertisements was announced as /32s to every peer.
    const advertisements =
      bgpAdvertisements.length > 0
        ? bgpAdvertisements
        : [{ reader, spelling: pool.spelling, name: pool.name }];
    for (const advertisement of advertisements) {
      config.bgpAdvertisements.push({ ...advertisement, pools: only });
    }
  } else {
    reader.warn(
      "protocol",
      `${protocol === undefined ? "is missing" : `"${protocol}" is neither layer2 nor bgp`}; the pool is converted, with no advertisement`,
    );
  }
}
