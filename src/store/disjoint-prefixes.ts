/** Byte-wise prefixes without those inside another one, so no key is listed or watched twice. */
export function disjointPrefixes(prefixes: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of [...new Set(prefixes)].sort()) {
    if (!out.some((q) => p.startsWith(q))) out.push(p);
  }
  return out;
}
