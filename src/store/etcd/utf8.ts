/**
 * etcd's keys and values are bytes, perch's are strings. Bytes that are not UTF-8 are left out and
 * reported, key named in hex: decoding them with replacement characters would make two keys one.
 */
import { isUtf8 } from "node:buffer";
import type { StoreProblem } from "../types.js";

/** What UTF-8 decoding puts in place of bytes that are not UTF-8 (and what valid UTF-8 may hold too). */
const REPLACEMENT = "\uFFFD";

/** The key and value as strings, or undefined with a problem pushed when either is not UTF-8. */
export function decodeEntry(key: Uint8Array, value: Uint8Array, problems: StoreProblem[]): { key: string; value: string } | undefined {
  const name = decodeKey(key, problems);
  const text = name === undefined ? undefined : decodeValue(name, value, problems);
  return text === undefined ? undefined : { key: name as string, value: text };
}

/**
 * decodeEntry for a key and a value that lie in `message` (start and end offsets), without a buffer for either:
 * decoding makes U+FFFD of what is not UTF-8, so only a string holding one needs the exact check.
 */
export function decodeEntryAt(message: Buffer, keyStart: number, keyEnd: number, valueStart: number, valueEnd: number, problems: StoreProblem[]): { key: string; value: string } | undefined {
  const key = message.toString("utf8", keyStart, keyEnd);
  const value = message.toString("utf8", valueStart, valueEnd);
  if (!key.includes(REPLACEMENT) && !value.includes(REPLACEMENT)) return { key, value };
  return decodeEntry(message.subarray(keyStart, keyEnd), message.subarray(valueStart, valueEnd), problems);
}

/** The value of `key` as a string, or undefined with a problem pushed when it is not UTF-8. */
export function decodeValue(key: string, value: Uint8Array, problems: StoreProblem[]): string | undefined {
  const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (isUtf8(bytes)) return bytes.toString("utf8");
  problems.push({ key, message: `${key}: the value is not valid UTF-8: the key is left out`, severity: "error" });
  return undefined;
}

/** The key as a string, or undefined with a problem pushed when it is not UTF-8. */
export function decodeKey(key: Uint8Array, problems: StoreProblem[]): string | undefined {
  const bytes = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  if (isUtf8(bytes)) return bytes.toString("utf8");
  const hex = `0x${bytes.toString("hex")}`;
  problems.push({ key: hex, message: `key ${hex} (${JSON.stringify(bytes.toString("utf8"))}) is not valid UTF-8: left out`, severity: "error" });
  return undefined;
}
