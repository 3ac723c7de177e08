/**
 * Calico v3.16's datastore keys, and the v3 resources the BGP derivation reads, decoded and checked
 * into plain records. A value that does not decode, or a field of the wrong type, throws FieldError;
 * the derivation then leaves that resource out, as Calico's syncer skips what it cannot convert.
 */
import { Fields, FieldError } from "./fields.js";
import { parseCidr, parseCidrOrIp, parseIp, type ParsedAddress, type ParsedCidrOrIp } from "./ip.js";
import { parseSelector, SelectorError, type Selector } from "./selector.js";

export const RESOURCES_PREFIX = "/calico/resources/v3/projectcalico.org/";
export const AFFINITIES_PREFIX = "/calico/ipam/v2/host/";

/** The plural (the key's folder) of each kind the derivation reads. */
export const READ_KINDS = { nodes: "Node", bgpconfigurations: "BGPConfiguration", bgppeers: "BGPPeer", ippools: "IPPool" } as const;
export type Plural = keyof typeof READ_KINDS;

/** The other kinds Calico v3.16 stores under the same prefix: present on every cluster, not read. */
const OTHER_KINDS = new Set([
  "clusterinformations",
  "felixconfigurations",
  "globalnetworkpolicies",
  "globalnetworksets",
  "hostendpoints",
  "kubecontrollersconfigurations",
  "networkpolicies",
  "networksets",
  "profiles",
  "workloadendpoints",
]);

/** What a raw etcd key is to the derivation. */
export type DatastoreKey =
  | { type: "resource"; plural: Plural; name: string }
  | { type: "affinity"; host: string; family: 4 | 6; cidr: string }
  | { type: "ignored" }
  | { type: "unknown"; why: string };

export function classifyKey(key: string): DatastoreKey {
  if (key.startsWith(RESOURCES_PREFIX)) {
    const [plural, ...rest] = key.slice(RESOURCES_PREFIX.length).split("/");
    if (plural !== undefined && Object.hasOwn(READ_KINDS, plural)) {
      // The kinds read here are cluster-scoped: one name segment.
      if (rest.length !== 1 || rest[0] === "") return { type: "unknown", why: `not a ${READ_KINDS[plural as Plural]} key: a cluster-scoped resource has one name after ${RESOURCES_PREFIX}${plural}/` };
      return { type: "resource", plural: plural as Plural, name: rest[0] as string };
    }
    if (plural !== undefined && OTHER_KINDS.has(plural)) return { type: "ignored" };
    return { type: "unknown", why: `unknown kind "${plural ?? ""}" under ${RESOURCES_PREFIX} (Calico v3.16 has no such resource)` };
  }
  if (key.startsWith(AFFINITIES_PREFIX)) {
    const m = /^([^/]+)\/ipv([46])\/block\/([^/]+)$/.exec(key.slice(AFFINITIES_PREFIX.length));
    if (m === null) return { type: "ignored" };
    return { type: "affinity", host: m[1] as string, family: m[2] === "4" ? 4 : 6, cidr: m[3] as string };
  }
  return { type: "ignored" };
}

export interface NodeRecord {
  name: string;
  labels: Readonly<Record<string, string>>;
  ipv4?: ParsedCidrOrIp;
  ipv6?: ParsedCidrOrIp;
  asNumber?: number;
  rrClusterId: string;
}

export interface Community {
  name: string;
  value: string;
}

export interface PrefixAdvertisement {
  cidr: string;
  communities: string[];
}

export interface BgpConfigRecord {
  name: string;
  logSeverityScreen?: string;
  nodeToNodeMeshEnabled?: boolean;
  asNumber?: number;
  serviceExternalIPs: string[];
  serviceClusterIPs: string[];
  communities: Community[];
  /** Undefined when the field is absent: then no prefix_advertisements keys at all. */
  prefixAdvertisements?: PrefixAdvertisement[];
  listenPort?: number;
}

export interface PeerRecord {
  name: string;
  node?: string;
  /** The remote address from `peerIP`, with its port (0 when none was given). */
  peerAddress?: ParsedAddress & { port: number };
  asNumber: number;
  nodeSelector?: Selector;
  peerSelector?: Selector;
  keepOriginalNextHop: boolean;
  password?: { secret: string; key: string };
}

export type EncapMode = "Never" | "Always" | "CrossSubnet";

export interface PoolRecord {
  name: string;
  cidr: ParsedCidrOrIp;
  ipipMode: EncapMode;
  vxlanMode: EncapMode;
  natOutgoing: boolean;
  disabled: boolean;
}

export type ResourceRecord =
  | { plural: "nodes"; record: NodeRecord }
  | { plural: "bgpconfigurations"; record: BgpConfigRecord }
  | { plural: "bgppeers"; record: PeerRecord }
  | { plural: "ippools"; record: PoolRecord };

const MAX_AS = 4294967295;
const MAX_PORT = 65535;

/** Decode one v3 resource stored under `plural/name`. Throws FieldError. */
export function decodeResource(plural: Plural, name: string, value: string): ResourceRecord {
  let doc: unknown;
  try {
    doc = JSON.parse(value);
  } catch (err) {
    throw new FieldError(`value is not JSON: ${(err as Error).message}`);
  }
  const root = Fields.root(doc, "value");
  const kind = root.requireString("kind");
  if (kind !== READ_KINDS[plural]) root.fail("kind", `is ${JSON.stringify(kind)}, but the key is a ${READ_KINDS[plural]}'s`);
  const storedName = root.requireObject("metadata").requireString("name");
  if (storedName !== name) root.fail("metadata.name", `is ${JSON.stringify(storedName)}, but the key names ${JSON.stringify(name)}`);
  const spec = root.object("spec") ?? Fields.root({}, "spec");
  switch (plural) {
    case "nodes":
      return { plural, record: decodeNode(name, root, spec) };
    case "bgpconfigurations":
      return { plural, record: decodeBgpConfig(name, spec) };
    case "bgppeers":
      return { plural, record: decodePeer(name, spec) };
    case "ippools":
      return { plural, record: decodePool(name, spec) };
  }
}

function decodeNode(name: string, root: Fields, spec: Fields): NodeRecord {
  const labels = root.requireObject("metadata").stringMap("labels");
  const bgp = spec.object("bgp");
  if (bgp === undefined) return { name, labels, rrClusterId: "" };
  const address = (field: string, family: 4 | 6): ParsedCidrOrIp | undefined => {
    const text = bgp.string(field);
    if (text === undefined || text === "") return undefined;
    const parsed = parseCidrOrIp(text);
    if (parsed === undefined || parsed.family !== family) bgp.fail(field, `must be an IPv${family} address or CIDR, got ${JSON.stringify(text)}`);
    return parsed;
  };
  return {
    name,
    labels,
    ipv4: address("ipv4Address", 4),
    ipv6: address("ipv6Address", 6),
    asNumber: asNumber(bgp, "asNumber"),
    rrClusterId: bgp.string("routeReflectorClusterID") ?? "",
  };
}

function decodeBgpConfig(name: string, spec: Fields): BgpConfigRecord {
  const cidrs = (field: string) =>
    (spec.objects(field) ?? []).map((block) => {
      const cidr = block.requireString("cidr");
      if (parseCidrOrIp(cidr) === undefined) block.fail("cidr", `must be a CIDR, got ${JSON.stringify(cidr)}`);
      return cidr;
    });
  const prefixAdvertisements = spec.objects("prefixAdvertisements")?.map((entry) => ({
    cidr: entry.requireString("cidr"),
    communities: entry.strings("communities") ?? [],
  }));
  return {
    name,
    logSeverityScreen: spec.string("logSeverityScreen"),
    nodeToNodeMeshEnabled: spec.boolean("nodeToNodeMeshEnabled"),
    asNumber: asNumber(spec, "asNumber"),
    serviceExternalIPs: cidrs("serviceExternalIPs"),
    serviceClusterIPs: cidrs("serviceClusterIPs"),
    communities: (spec.objects("communities") ?? []).map((c) => ({ name: c.requireString("name"), value: c.requireString("value") })),
    prefixAdvertisements,
    listenPort: spec.integer("listenPort", 0, MAX_PORT) || undefined,
  };
}

function decodePeer(name: string, spec: Fields): PeerRecord {
  const selector = (field: string): Selector | undefined => {
    const text = spec.string(field);
    if (text === undefined || text.trim() === "") return undefined;
    try {
      return parseSelector(text);
    } catch (err) {
      if (err instanceof SelectorError) spec.fail(field, `is not a valid selector: ${err.message}`);
      throw err;
    }
  };
  const peerSelector = selector("peerSelector");
  const peerIP = spec.string("peerIP") ?? "";
  let peerAddress: PeerRecord["peerAddress"];
  if (peerSelector === undefined) {
    peerAddress = parsePeerIp(peerIP);
    if (peerAddress === undefined) spec.fail("peerIP", `must be an IP address with an optional port (a.b.c.d, a.b.c.d:port, v6 or [v6]:port) when there is no peerSelector, got ${JSON.stringify(peerIP)}`);
  }
  const secretKeyRef = spec.object("password")?.object("secretKeyRef");
  return {
    name,
    node: spec.string("node") || undefined,
    peerAddress,
    asNumber: asNumber(spec, "asNumber") ?? 0,
    nodeSelector: selector("nodeSelector"),
    peerSelector,
    keepOriginalNextHop: spec.boolean("keepOriginalNextHop") ?? false,
    password: secretKeyRef && { secret: secretKeyRef.requireString("name"), key: secretKeyRef.requireString("key") },
  };
}

/** `peerIP` as Go's net.SplitHostPort + net.ParseIP read it (confd's parseIPPort). */
export function parsePeerIp(text: string): (ParsedAddress & { port: number }) | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  const host = m ? (m[1] as string) : text;
  const port = m ? Number(m[2]) : 0;
  if (port > MAX_PORT) return undefined;
  const ip = parseIp(host);
  return ip && { ...ip, port };
}

function decodePool(name: string, spec: Fields): PoolRecord {
  const cidrText = spec.requireString("cidr");
  const cidr = parseCidr(cidrText);
  if (cidr === undefined) spec.fail("cidr", `must be a CIDR, got ${JSON.stringify(cidrText)}`);
  const mode = (field: string): EncapMode => {
    const value = spec.string(field) ?? "Never";
    if (value === "") return "Never";
    if (value !== "Never" && value !== "Always" && value !== "CrossSubnet") spec.fail(field, `must be Never, Always or CrossSubnet, got ${JSON.stringify(value)}`);
    return value;
  };
  return {
    name,
    cidr,
    ipipMode: mode("ipipMode"),
    vxlanMode: mode("vxlanMode"),
    natOutgoing: spec.boolean("natOutgoing") ?? false,
    disabled: spec.boolean("disabled") ?? false,
  };
}

/** numorstring.ASNumber: a JSON number, or a string in plain (`64512`) or dotted (`1.10`) notation. */
function asNumber(fields: Fields, name: string): number | undefined {
  const raw = fields.value(name);
  if (raw === undefined) return undefined;
  const text = typeof raw === "number" || typeof raw === "string" ? String(raw) : "";
  const dotted = /^(\d+)\.(\d+)$/.exec(text);
  if (typeof raw === "string" && dotted && Number(dotted[1]) <= 65535 && Number(dotted[2]) <= 65535) return Number(dotted[1]) * 65536 + Number(dotted[2]);
  if (/^\d+$/.test(text) && Number(text) <= MAX_AS) return Number(text);
  return fields.fail(name, `must be an AS number, got ${JSON.stringify(raw)}`);
}
