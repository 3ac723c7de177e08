/**
 * What a loop's iterations can see besides their item and their own reads: the context the loop is in, the data
 * variables, the enclosing block params, the parent contexts (`../`) and the partials. While it is equal in value
 * to the last render's, an iteration that read nothing changed renders the same text.
 */
import { versionOf } from "../mirror/list-edits.js";
import { frameValues, type DataFrame } from "./iteration-frame.js";

/** Data variables that are the render's machinery, not template values (constant for one resource). */
const MACHINERY = new Set(["perch", "perchTemplate"]);

/** Deeper than this, values are taken as different (reuse is lost, never wrongly kept). */
const MAX_DEPTH = 64;

export type LoopEnv = readonly unknown[];

export interface LoopCaller {
  context: unknown;
  data: DataFrame | undefined;
  blockParams: unknown;
  depths: unknown;
  partials: unknown;
}

/**
 * A snapshot of the caller's environment, to compare with the next render's. The mirror patches its answers in place,
 * so the snapshot also holds the version of each list the environment holds (where a helper's answer can be: the
 * context, a block param, a parent context, a data variable): the same list at another version is another value.
 */
export function captureEnv(caller: LoopCaller): LoopEnv {
  const env: unknown[] = [caller.context, caller.blockParams, caller.depths, partialIdentities(caller.partials)];
  const versions: number[] = [];
  addVersion(versions, caller.context);
  for (const params of itemsOf(caller.blockParams)) for (const param of itemsOf(params)) addVersion(versions, param);
  for (const depth of itemsOf(caller.depths)) addVersion(versions, depth);
  for (let frame = caller.data; frame !== undefined && frame !== null; frame = frame._parent as DataFrame | undefined) {
    const values = frameValues(frame).filter(([name]) => !MACHINERY.has(name));
    env.push(values.length);
    for (const [name, value] of values) {
      env.push(name, value);
      addVersion(versions, value);
    }
  }
  env.push(versions);
  return env;
}

function addVersion(versions: number[], value: unknown): void {
  if (Array.isArray(value)) versions.push(versionOf(value));
}

function itemsOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

export function sameEnv(a: LoopEnv, b: LoopEnv): boolean {
  return sameValue(a, b, 0);
}

/** Inline partials are fresh functions each render: the program each one runs names it. */
function partialIdentities(partials: unknown): unknown {
  if (typeof partials !== "object" || partials === null) return partials;
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(partials)) {
    const program = (fn as { program?: unknown } | undefined)?.program;
    out[name] = typeof program === "number" ? program : fn;
  }
  return out;
}

/** Equal as template values: primitives, arrays and plain objects by content, anything else by identity. */
function sameValue(a: unknown, b: unknown, depth: number): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null || depth > MAX_DEPTH) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i], depth + 1)) return false;
    return true;
  }
  if (!isPlain(a) || !isPlain(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    if (!Object.prototype.hasOwnProperty.call(b, key)) return false;
    if (!sameValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
