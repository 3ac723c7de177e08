/**
 * The launcher's code cache file: V8's cached data for the bundle, after a one-line header naming the kinds of
 * run (run-kind.ts) whose functions it holds. A file without a valid header is no cache.
 */
const MAGIC = "perch-code-cache 1 ";
const NEWLINE = 0x0a;
/** A run of a new kind beyond this many drops the oldest name (not its functions, which stay in the data). */
const KINDS_KEPT = 16;

export interface CodeCache {
  /** V8's cached data (vm.Script's cachedData). */
  data: Buffer;
  /** The kinds of run that compiled the functions in `data`. */
  kinds: readonly string[];
}

export function decodeCodeCache(file: Buffer): CodeCache | undefined {
  if (file.subarray(0, MAGIC.length).toString("latin1") !== MAGIC) return undefined;
  const end = file.indexOf(NEWLINE, MAGIC.length);
  if (end < 0) return undefined;
  let kinds: unknown;
  try {
    kinds = JSON.parse(file.subarray(MAGIC.length, end).toString("utf8"));
  } catch {
    return undefined;
  }
  if (!Array.isArray(kinds) || !kinds.every((k) => typeof k === "string")) return undefined;
  return { data: file.subarray(end + 1), kinds };
}

export function encodeCodeCache({ data, kinds }: CodeCache): Buffer {
  return Buffer.concat([Buffer.from(`${MAGIC}${JSON.stringify(kinds.slice(-KINDS_KEPT))}\n`), data]);
}

/**
 * The cache to write at exit, if any: a fresh one when there was none (or V8 rejected it), the same data with
 * this run's functions added when this run is of a kind it did not hold yet, else none.
 */
export function cacheToWrite(read: CodeCache | undefined, accepted: boolean, kind: string | undefined, data: () => Buffer): CodeCache | undefined {
  const kinds = accepted && read !== undefined ? read.kinds : [];
  if (accepted && (kind === undefined || kinds.includes(kind))) return undefined;
  return { data: data(), kinds: kind === undefined || kinds.includes(kind) ? kinds : [...kinds, kind] };
}
