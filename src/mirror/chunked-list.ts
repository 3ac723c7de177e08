/**
 * A long sorted answer (a `gets` over 100,000 keys) edited without copying its items: they are kept in chunks, an
 * edit copies the one chunk it falls in and the table of chunks, and what templates get is an array (Array.isArray is
 * true, indexing, length and every array method work) that reads through to the chunks and refuses every change.
 */

/** Lists shorter than this stay plain arrays: copying them costs less than reading through a proxy. */
export const CHUNKED_FROM = 32_768;
/** Items per chunk: a chunk grows to twice this before it splits. */
const CHUNK = 512;

interface Chunks<T> {
  readonly chunks: ReadonlyArray<readonly T[]>;
  /** Where each chunk starts in the list. */
  readonly starts: readonly number[];
  readonly length: number;
}

/** The chunks behind each list made here. */
const behind = new WeakMap<readonly unknown[], Chunks<unknown>>();

export function isChunked(list: readonly unknown[]): boolean {
  return behind.has(list);
}

/** `items` as a chunked list (its items are not copied into one array again). */
export function chunkedList<T>(items: readonly T[]): readonly T[] {
  const chunks: T[][] = [];
  for (let at = 0; at < items.length; at += CHUNK) chunks.push(items.slice(at, at + CHUNK));
  return listOver({ chunks, starts: startsOf(chunks), length: items.length });
}

/**
 * The list with `deleteCount` items at `start` replaced by `items`: a new list (the one given never changes), chunked
 * when the one given was or is long.
 */
export function splicedList<T>(list: readonly T[], start: number, deleteCount: number, items: readonly T[]): readonly T[] {
  const from = (behind.get(list) ?? (list.length >= CHUNKED_FROM ? behind.get(chunkedList(list)) : undefined)) as Chunks<T> | undefined;
  if (from === undefined) return spliced(list, start, deleteCount, items);
  const c = chunkAt(from, Math.min(start, from.length - 1));
  const chunk = from.chunks[c] as readonly T[];
  const at = start - (from.starts[c] as number);
  // Across a chunk's end (a splice of several items): made again from the items.
  if (at + deleteCount > chunk.length) return chunkedList(spliced([...list], start, deleteCount, items));
  const edited = spliced(chunk, at, deleteCount, items);
  const half = edited.length >> 1;
  const replacement = edited.length > 2 * CHUNK ? [edited.slice(0, half), edited.slice(half)] : edited.length === 0 ? [] : [edited];
  const chunks = [...from.chunks.slice(0, c), ...replacement, ...from.chunks.slice(c + 1)];
  return listOver({ chunks, starts: startsOf(chunks), length: from.length - deleteCount + items.length });
}

function spliced<T>(list: readonly T[], start: number, deleteCount: number, items: readonly T[]): T[] {
  // Array.prototype.toSpliced is in Node 20; the project's TypeScript lib (ES2022) does not declare it.
  return (list as unknown as { toSpliced(start: number, deleteCount: number, ...items: T[]): T[] }).toSpliced(start, deleteCount, ...items);
}

function startsOf(chunks: ReadonlyArray<readonly unknown[]>): number[] {
  const starts = new Array<number>(chunks.length);
  let at = 0;
  for (let c = 0; c < chunks.length; c++) {
    starts[c] = at;
    at += (chunks[c] as readonly unknown[]).length;
  }
  return starts;
}

/** The chunk holding item `i` (0 ≤ i < length). */
function chunkAt(list: Chunks<unknown>, i: number): number {
  let lo = 0;
  let hi = list.starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if ((list.starts[mid] as number) <= i) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function listOver<T>(chunks: Chunks<T>): readonly T[] {
  // Reads go in order (a loop), so the chunk of the last read is tried first.
  let last = 0;
  const item = (i: number): T => {
    const start = chunks.starts[last] as number;
    if (i < start || i >= start + (chunks.chunks[last] as readonly T[]).length) last = chunkAt(chunks, i);
    return (chunks.chunks[last] as readonly T[])[i - (chunks.starts[last] as number)] as T;
  };
  const index = (key: string | symbol): number => (typeof key === "string" ? arrayIndex(key, chunks.length) : -1);
  const refuse = () => false;
  // The target is an empty array, so that the list is an Array to Array.isArray and its methods.
  const list = new Proxy([] as T[], {
    get(target, key, receiver) {
      if (key === "length") return chunks.length;
      const i = index(key);
      return i >= 0 ? item(i) : Reflect.get(target, key, receiver);
    },
    has(target, key) {
      return index(key) >= 0 || Reflect.has(target, key);
    },
    getOwnPropertyDescriptor(target, key) {
      if (key === "length") return { value: chunks.length, writable: true, enumerable: false, configurable: false };
      const i = index(key);
      return i >= 0 ? { value: item(i), writable: false, enumerable: true, configurable: true } : Reflect.getOwnPropertyDescriptor(target, key);
    },
    ownKeys(target) {
      return [...Array.from({ length: chunks.length }, (_, i) => String(i)), ...Reflect.ownKeys(target)];
    },
    set: refuse,
    defineProperty: refuse,
    deleteProperty: refuse,
    setPrototypeOf: refuse,
    preventExtensions: refuse,
  });
  behind.set(list, chunks as Chunks<unknown>);
  return list;
}

/** The index a property key names in a list of `length` ("0", "17"; not "017", "1e3" or "-0"), or -1. */
function arrayIndex(key: string, length: number): number {
  const n = key.length;
  if (n === 0 || n > 15 || (n > 1 && key.charCodeAt(0) === 48)) return -1;
  let i = 0;
  for (let j = 0; j < n; j++) {
    const digit = key.charCodeAt(j) - 48;
    if (digit < 0 || digit > 9) return -1;
    i = i * 10 + digit;
  }
  return i < length ? i : -1;
}
