/**
 * Addresses as Calico's Go code reads and prints them (net.ParseIP, cnet.ParseCIDROrIP, IP.String):
 * dotted quads without leading zeros, IPv6 in RFC 5952 form, an IPv4-mapped IPv6 address printed as
 * IPv4, no zone ids. ipaddr.js does the parsing and the RFC 5952 printing.
 */
import { isIPv4, isIPv6 } from "node:net";
import ipaddr from "ipaddr.js";

export interface ParsedAddress {
  /** The address as Go prints it. */
  ip: string;
  family: 4 | 6;
}

export interface ParsedCidrOrIp extends ParsedAddress {
  /** The masked network as Go prints it (`10.192.0.0/16`); a bare address is its own /32 or /128. */
  network: string;
}

/** An IP address as Go's net.ParseIP takes it; undefined when it is not one. */
export function parseIp(text: string): ParsedAddress | undefined {
  if (text.includes("%") || !(isIPv4(text) || isIPv6(text))) return undefined;
  const parsed = ipaddr.parse(text);
  if (parsed.kind() === "ipv6") {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) return { ip: v6.toIPv4Address().toString(), family: 4 };
    return { ip: v6.toString(), family: 6 };
  }
  return { ip: parsed.toString(), family: 4 };
}

/** `a.b.c.d/n`, `v6/n`, or a bare address (Calico's cnet.ParseCIDROrIP); undefined when it is neither. */
export function parseCidrOrIp(text: string): ParsedCidrOrIp | undefined {
  const slash = text.indexOf("/");
  const address = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (address === undefined) return undefined;
  const max = address.family === 4 ? 32 : 128;
  let length = max;
  if (slash >= 0) {
    const lengthText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(lengthText) || Number(lengthText) > max) return undefined;
    length = Number(lengthText);
  }
  // By family: ipaddr.js's IPv4 test throws (and catches) on an IPv6 string, an exception per node.
  const network = address.family === 4 ? ipaddr.IPv4.networkAddressFromCIDR(`${address.ip}/${length}`) : ipaddr.IPv6.networkAddressFromCIDR(`${address.ip}/${length}`);
  return { ...address, network: `${network.toString()}/${length}` };
}

/** A CIDR as Calico stores an IPPool's (a network with a prefix length); undefined otherwise. */
export function parseCidr(text: string): ParsedCidrOrIp | undefined {
  return text.includes("/") ? parseCidrOrIp(text) : undefined;
}

/** Whether `ip` lies inside `cidr` (both already parsed, same family or not). */
export function cidrContains(cidr: ParsedCidrOrIp, ip: ParsedAddress): boolean {
  if (cidr.family !== ip.family) return false;
  const [network, length] = ipaddr.parseCIDR(cidr.network);
  return ipaddr.parse(ip.ip).match(network, length);
}
