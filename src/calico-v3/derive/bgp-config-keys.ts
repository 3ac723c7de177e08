/**
 * BGPConfiguration → v1 keys (confd's updateBGPConfigCache): `default` gives the global keys, with
 * confd's defaults when a field (or the whole resource) is absent; `node.<name>` gives that node's
 * listen port, log level and prefix advertisements.
 */
import type { BgpConfigRecord, Community, PrefixAdvertisement } from "../resources.js";
import { goJson } from "../go-json.js";
import { DEFAULT_AS_NUMBER, DEFAULT_LOG_LEVEL, DEFAULT_NODE_MESH, GLOBAL, hostKey, type KeyMap } from "./v1-keys.js";

export const PER_NODE_CONFIG_PREFIX = "node.";

export function globalConfigKeys(config: BgpConfigRecord | undefined): KeyMap {
  const keys: KeyMap = new Map();
  keys.set(`${GLOBAL}/as_num`, String(config?.asNumber ?? DEFAULT_AS_NUMBER));
  keys.set(`${GLOBAL}/node_mesh`, config?.nodeToNodeMeshEnabled === undefined ? DEFAULT_NODE_MESH : goJson({ enabled: config.nodeToNodeMeshEnabled }));
  keys.set(`${GLOBAL}/loglevel`, logLevel(config?.logSeverityScreen) ?? DEFAULT_LOG_LEVEL);
  if (config === undefined) return keys;
  if (config.listenPort !== undefined) keys.set(`${GLOBAL}/listen_port`, String(config.listenPort));
  if (config.serviceClusterIPs.length > 0) keys.set(`${GLOBAL}/svc_cluster_ips`, config.serviceClusterIPs.join(","));
  if (config.serviceExternalIPs.length > 0) keys.set(`${GLOBAL}/svc_external_ips`, config.serviceExternalIPs.join(","));
  addPrefixAdvertisements(keys, GLOBAL, config);
  return keys;
}

export function nodeConfigKeys(node: string, config: BgpConfigRecord): KeyMap {
  const keys: KeyMap = new Map();
  const base = hostKey(node, "").slice(0, -1);
  if (config.listenPort !== undefined) keys.set(`${base}/listen_port`, String(config.listenPort));
  const level = logLevel(config.logSeverityScreen);
  if (level !== undefined) keys.set(`${base}/loglevel`, level);
  addPrefixAdvertisements(keys, base, config);
  return keys;
}

/** BIRD knows none, debug and info: debug and info stay, anything else is none. */
function logLevel(severity: string | undefined): string | undefined {
  if (severity === undefined || severity === "") return undefined;
  const lower = severity.toLowerCase();
  return lower === "debug" || lower === "info" ? lower : "none";
}

/** Both families' keys as soon as the field is set; a family with no prefix is JSON null. */
function addPrefixAdvertisements(keys: KeyMap, base: string, config: BgpConfigRecord): void {
  if (config.prefixAdvertisements === undefined) return;
  const v4: object[] = [];
  const v6: object[] = [];
  for (const advertisement of config.prefixAdvertisements) {
    (advertisement.cidr.includes(":") ? v6 : v4).push({ cidr: advertisement.cidr, communities: resolveCommunities(advertisement, config.communities) });
  }
  keys.set(`${base}/prefix_advertisements/ip_v4`, v4.length === 0 ? "null" : goJson(v4));
  keys.set(`${base}/prefix_advertisements/ip_v6`, v6.length === 0 ? "null" : goJson(v6));
}

const LITERAL_COMMUNITY = /^\d+:\d+(:\d+)?$/;

/**
 * Literal communities as written, names through the resource's own `communities`; unknown names
 * dropped, no duplicates. None left: null, as Go marshals the nil slice confd appends to.
 */
function resolveCommunities(advertisement: PrefixAdvertisement, defined: readonly Community[]): string[] | null {
  const out = new Set<string>();
  for (const entry of advertisement.communities) {
    if (LITERAL_COMMUNITY.test(entry)) out.add(entry);
    else {
      const named = defined.find((c) => c.name === entry);
      if (named !== undefined) out.add(named.value);
    }
  }
  return out.size === 0 ? null : [...out];
}
