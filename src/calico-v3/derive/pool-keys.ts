/**
 * IPPool → `/calico/v1/ipam/v{4,6}/pool/<cidr>` (libcalico-go's ippoolprocessor). Pools are few, so
 * the family is computed whole; two pools with one CIDR (Calico refuses them) resolve to the first name.
 */
import { goJson } from "../go-json.js";
import type { EncapMode, PoolRecord } from "../resources.js";
import { cidrSegment, type KeyMap } from "./v1-keys.js";

const MODE: Record<EncapMode, string> = { Never: "", Always: "always", CrossSubnet: "cross-subnet" };

export function poolKeys(pools: Iterable<PoolRecord>): KeyMap {
  const keys: KeyMap = new Map();
  for (const pool of [...pools].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const key = `/calico/v1/ipam/v${pool.cidr.family}/pool/${cidrSegment(pool.cidr.network)}`;
    if (keys.has(key)) continue;
    keys.set(
      key,
      goJson({
        cidr: pool.cidr.network,
        ipip: pool.ipipMode === "Never" ? "" : "tunl0",
        ipip_mode: MODE[pool.ipipMode],
        vxlan_mode: MODE[pool.vxlanMode],
        masquerade: pool.natOutgoing,
        ipam: !pool.disabled,
        disabled: pool.disabled,
      }),
    );
  }
  return keys;
}
