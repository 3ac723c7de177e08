/**
 * The file store: a JSON object of key → string value, as `perch snapshot` writes it. No server
 * needed — CI renders, template authoring and the bundled example use it. Watching re-reads the
 * file when it changes (chokidar) and streams the differences as change events.
 */
import { isUtf8 } from "node:buffer";
import { readFile } from "node:fs/promises";
import { PerchError } from "../errors.js";
import type { ChangeEvent, ChangeStream, KeyValue, Snapshot, Store, StreamSignal } from "./types.js";

export async function readKeysFile(file: string): Promise<Map<string, string>> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new PerchError(`cannot read keys file: ${(err as Error).message}`, { file });
  }
  // Decoding with replacement characters could make two keys one (as etcd's stores refuse to).
  if (!isUtf8(bytes)) throw new PerchError("keys file is not valid UTF-8", { file });
  const text = bytes.toString("utf8");
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new PerchError(`keys file is not valid JSON: ${(err as Error).message}`, { file });
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new PerchError("keys file must be a JSON object of key → string value", { file });
  }
  const keys = new Map<string, string>();
  for (const [key, value] of Object.entries(doc)) {
    if (typeof value !== "string") {
      throw new PerchError(`value of key ${key} must be a string, got ${value === null ? "null" : typeof value}`, { file, key });
    }
    keys.set(key, value);
  }
  return keys;
}

function under(key: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => key.startsWith(p));
}

export class FileStore implements Store {
  readonly kind = "file";
  private revision = 0;
  private current: Map<string, string> | undefined;

  constructor(readonly file: string) {}

  async list(prefixes: readonly string[]): Promise<Snapshot> {
    this.current = await readKeysFile(this.file);
    this.revision++;
    const kvs: KeyValue[] = [];
    for (const [key, value] of this.current) if (under(key, prefixes)) kvs.push({ key, value });
    return { revision: this.revision, kvs };
  }

  async watch(prefixes: readonly string[], _afterRevision: number, onSignal: (signal: StreamSignal) => void): Promise<ChangeStream> {
    const { watch } = await import("chokidar");
    // Editors replace files by rename; awaitWriteFinish avoids reading a half-saved file.
    const watcher = watch(this.file, { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 20, pollInterval: 10 } });
    const reread = async () => {
      try {
        const next = await readKeysFile(this.file);
        const events = diffKeys(this.current ?? new Map(), next, prefixes, this.revision + 1);
        this.current = next;
        if (events.length === 0) return;
        this.revision++;
        onSignal({ type: "changes", events, revision: this.revision });
      } catch (err) {
        // A half-edited keys file: report it, keep the last good keys, wait for the next save.
        onSignal({ type: "disconnected", error: err as Error });
      }
    };
    watcher.on("change", reread).on("add", reread);
    await new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
    onSignal({ type: "connected" });
    // An edit between the listing and the watcher being ready raised no event: catch it up now,
    // as an etcd watch resumes after the listed revision.
    await reread();
    return { close: () => watcher.close() };
  }

  async close(): Promise<void> {}
}

export function diffKeys(before: Map<string, string>, after: Map<string, string>, prefixes: readonly string[], revision: number): ChangeEvent[] {
  const events: ChangeEvent[] = [];
  for (const [key, value] of after) {
    if (under(key, prefixes) && before.get(key) !== value) events.push({ type: "put", key, value, revision });
  }
  for (const key of before.keys()) {
    if (under(key, prefixes) && !after.has(key)) events.push({ type: "delete", key, revision });
  }
  return events;
}
