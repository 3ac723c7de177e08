/**
 * `perch snapshot`: the keys under the given prefixes, at one revision, as the JSON object the file
 * store reads — sorted in byte order, one key per line, so that a snapshot committed next to the
 * rendered files reviews as a clean diff.
 */
import type { Logger } from "../log/logger.js";
import type { KeyValue } from "../store/types.js";
import { writeFile } from "../write/write-file.js";
import { logStoreProblems } from "../store/problems.js";
import { openListingStore } from "./open-store.js";
import { EXIT } from "./exit.js";
import type { Config } from "./settings.js";

export async function snapshotCommand(config: Config, logger: Logger): Promise<number> {
  const store = await openListingStore(config, { logger, raw: true });
  // --calico-v3 saves the v3 datastore itself, for a later `perch render --calico-v3 --backend file`.
  const prefixes = config.calicoV3 ? [...(await import("../calico-v3/sources.js")).SNAPSHOT_PREFIXES, ...config.prefix] : config.prefix;
  let snapshot;
  try {
    snapshot = await store.list(prefixes);
  } finally {
    await store.close();
  }
  // A key the store had to leave out is named and fails the command; the snapshot holds the rest.
  const storeErrors = logStoreProblems(logger, snapshot.problems);
  const text = formatSnapshot(snapshot.kvs);
  const summary = { event: "snapshot", store: store.kind, prefixes, keys: snapshot.kvs.length, revision: snapshot.revision };
  if (config.output === undefined || config.output === "-") {
    process.stdout.write(text);
    logger.info(summary, "snapshot written to stdout");
    return storeErrors > 0 ? EXIT.failed : EXIT.ok;
  }
  const result = await writeFile(text, config.output, { checkTimeoutMs: 0, noop: false });
  if (result.action === "failed") {
    process.stderr.write(`perch snapshot: ${result.error}\n`);
    return EXIT.failed;
  }
  process.stderr.write(`perch snapshot: ${snapshot.kvs.length} keys at revision ${snapshot.revision} → ${config.output} (${result.action})\n`);
  logger.info({ ...summary, output: config.output, outcome: result.action }, "snapshot written");
  return storeErrors > 0 ? EXIT.failed : EXIT.ok;
}

/** `{\n  "key": "value",\n …}\n` in UTF-8 byte order of the keys (Go's order); `{}\n` when empty. */
export function formatSnapshot(kvs: readonly KeyValue[]): string {
  const sorted = kvs.map((kv) => ({ ...kv, bytes: Buffer.from(kv.key) })).sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  if (sorted.length === 0) return "{}\n";
  return `{\n${sorted.map((kv) => `  ${JSON.stringify(kv.key)}: ${JSON.stringify(kv.value)}`).join(",\n")}\n}\n`;
}
