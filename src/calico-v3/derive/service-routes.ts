/**
 * Service advertisement (confd's route generator): each CIDR in `serviceClusterIPs` and
 * `serviceExternalIPs` becomes a static route and a reject route; then each Service with
 * `externalTrafficPolicy: Local` and an endpoint on this node adds a /32 (/128) route for its
 * cluster IP (when cluster IPs are advertised) and for each external IP inside an advertised range.
 */
import { cidrContains, parseCidrOrIp, parseIp, type ParsedAddress } from "../ip.js";
import type { KubernetesObjects } from "../kubernetes.js";
import type { BgpConfigRecord } from "../resources.js";
import { cidrSegment, type KeyMap } from "./v1-keys.js";

const ADVERTISED_TYPES = new Set(["ClusterIP", "NodePort", "LoadBalancer"]);

export function serviceRouteKeys(config: BgpConfigRecord | undefined, kubernetes: KubernetesObjects, nodeRef: string): KeyMap {
  const keys: KeyMap = new Map();
  const clusterCidrs = config?.serviceClusterIPs ?? [];
  const externalCidrs = config?.serviceExternalIPs ?? [];
  const route = (tree: "staticroutes" | "rejectcidrs", cidr: string) => keys.set(`/calico/${tree}${cidr.includes(":") ? "v6" : ""}/${cidrSegment(cidr)}`, cidr);
  for (const cidr of [...clusterCidrs, ...externalCidrs]) {
    route("staticroutes", cidr);
    route("rejectcidrs", cidr);
  }
  if (keys.size === 0) return keys;

  const externalNets = externalCidrs.flatMap((cidr) => parseCidrOrIp(cidr) ?? []);
  const endpoints = new Map(kubernetes.endpoints.map((e) => [`${e.namespace}/${e.name}`, e.addresses]));
  for (const service of kubernetes.services) {
    if (!ADVERTISED_TYPES.has(service.type) || service.clusterIP === "" || service.clusterIP === "None") continue;
    if (service.externalTrafficPolicy !== "Local") continue;
    const addresses = endpoints.get(`${service.namespace}/${service.name}`) ?? [];
    const hasLocalEndpoint = (ip: ParsedAddress) => addresses.some((a) => a.nodeName === nodeRef && parseIp(a.ip)?.family === ip.family);
    const single = (ip: ParsedAddress) => route("staticroutes", `${ip.ip}/${ip.family === 4 ? 32 : 128}`);
    const clusterIp = parseIp(service.clusterIP);
    if (clusterCidrs.length > 0 && clusterIp !== undefined && hasLocalEndpoint(clusterIp)) single(clusterIp);
    for (const text of service.externalIPs) {
      const ip = parseIp(text);
      if (ip !== undefined && externalNets.some((net) => cidrContains(net, ip)) && hasLocalEndpoint(ip)) single(ip);
    }
  }
  return keys;
}
