/** What both ways of listing (the etcd3 client and the one-shot lister) ask etcd for. */

/**
 * Keys per range request. etcd 3.4's cost per page grows with what is left of the range, so larger
 * pages list faster; larger still would raise the daemon's memory high-water mark.
 */
export const LIST_PAGE_SIZE = 5_000;

/** Byte-wise prefixes without those inside another one, so no key is listed or watched twice. */
export function disjointPrefixes(prefixes: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of [...new Set(prefixes)].sort()) {
    if (!out.some((q) => p.startsWith(q))) out.push(p);
  }
  return out;
}
