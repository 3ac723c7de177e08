/** Calico's v1 key paths (libcalico-go's model.KeyToDefaultPath) and confd's defaults for them. */
export const GLOBAL = "/calico/bgp/v1/global";
export const HOST = "/calico/bgp/v1/host";

export const DEFAULT_AS_NUMBER = 64512;
/** confd's default is written with a space; an explicit setting is compact JSON. */
export const DEFAULT_NODE_MESH = '{"enabled": true}';
export const DEFAULT_LOG_LEVEL = "info";

/** What every family computes: v1 key → value. */
export type KeyMap = Map<string, string>;

/** `10.0.0.0/16` → `10.0.0.0-16`: the first `/` only (Go's strings.Replace(…, 1)). */
export function cidrSegment(cidr: string): string {
  return cidr.replace("/", "-");
}

export function hostKey(node: string, name: string): string {
  return `${HOST}/${node}/${name}`;
}
