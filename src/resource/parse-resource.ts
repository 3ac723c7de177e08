/**
 * One conf.d file → one resource definition, confd's `[template]` table plus perch's FIELDS. Unlike confd, a misspelt
 * field is an error with its line (a silently ignored `reload_cmnd` costs hours), and every problem is reported.
 */
import { PerchError } from "../errors.js";
import { nearestNames } from "../util/closest.js";
import { parseDuration, parseWait, type WaitWindow } from "../util/duration.js";
import { describeTomlValue, hasKind, KIND_NAMES, keyLine, parseToml, tableLine, type TomlKind } from "../util/toml.js";
import { groupId, userId } from "./accounts.js";

export interface ResourceDefinition {
  /** The conf.d file's base name without `.toml`: what --only and logs call the resource. */
  name: string;
  file: string;
  src: string;
  dest: string;
  prefix: string;
  keys: string[];
  mode?: number;
  uid?: number;
  gid?: number;
  checkCmd?: string;
  /** check_covers: the resources (conf.d names) whose files this resource's check_cmd reads too. */
  checkCovers?: string[];
  reloadCmd?: string;
  wait?: WaitWindow;
  checkTimeoutMs?: number;
  reloadTimeoutMs?: number;
  /** Line of each field in the file, for errors found later (a missing `src`, say). */
  lines: Record<string, number>;
}

interface FieldSpec {
  kind: Exclude<TomlKind, "boolean">;
  required?: boolean;
}

/** Every field a `[template]` table may have: confd's, then perch's additions. */
export const FIELDS: Readonly<Record<string, FieldSpec>> = {
  src: { kind: "string", required: true },
  dest: { kind: "string", required: true },
  keys: { kind: "strings", required: true },
  prefix: { kind: "string" },
  mode: { kind: "string" },
  uid: { kind: "integer" },
  gid: { kind: "integer" },
  owner: { kind: "string" },
  group: { kind: "string" },
  check_cmd: { kind: "string" },
  check_covers: { kind: "strings" },
  reload_cmd: { kind: "string" },
  wait: { kind: "string" },
  check_timeout: { kind: "string" },
  reload_timeout: { kind: "string" },
};

export function parseResource(file: string, name: string, text: string): { resource?: ResourceDefinition; errors: PerchError[] } {
  const parsed = parseToml(text, { file, resource: name });
  if ("error" in parsed) return { errors: [parsed.error] };
  const doc = parsed.doc;
  const errors: PerchError[] = [];
  const at = (msg: string, line?: number) => errors.push(new PerchError(msg, { file, line, resource: name }));

  for (const table of Object.keys(doc)) {
    if (table !== "template") at(`unknown table [${table}] (a resource file has one [template] table)`, tableLine(text, table));
  }
  const table = doc.template;
  if (table === undefined || typeof table !== "object" || table === null || Array.isArray(table)) {
    if (table === undefined) at("missing [template] table");
    else at("[template] must be a table", tableLine(text, "template"));
    return { errors };
  }
  const fields = table as Record<string, unknown>;
  const lines: Record<string, number> = {};
  for (const key of Object.keys(fields)) {
    const line = keyLine(text, key);
    if (line !== undefined) lines[key] = line;
    const spec = FIELDS[key];
    if (spec === undefined) {
      const hint = nearestNames(key, Object.keys(FIELDS))[0];
      at(`unknown field "${key}" in [template]${hint ? ` (did you mean "${hint}"?)` : ""}`, line);
    } else if (!hasKind(fields[key], spec.kind)) {
      at(`field "${key}" must be ${KIND_NAMES[spec.kind]}, got ${describeTomlValue(fields[key])}`, line);
    }
  }
  for (const [key, spec] of Object.entries(FIELDS)) {
    if (spec.required && fields[key] === undefined) at(`missing required field "${key}" in [template]`, tableLine(text, "template"));
  }
  if (errors.length > 0) return { errors };

  const str = (k: string) => fields[k] as string | undefined;
  const resource: ResourceDefinition = {
    name,
    file,
    src: fields.src as string,
    dest: fields.dest as string,
    prefix: str("prefix") ?? "",
    keys: fields.keys as string[],
    checkCmd: nonEmpty(str("check_cmd")),
    reloadCmd: nonEmpty(str("reload_cmd")),
    lines,
  };
  const covers = fields.check_covers as string[] | undefined;
  // Without a check_cmd there is nothing to check: ignored, so a set with its checks stripped (to
  // render without BIRD, as examples/ does) still loads.
  if (covers !== undefined && resource.checkCmd !== undefined) {
    if (covers.includes(name)) at(`field "check_covers" names this resource itself`, lines.check_covers);
    else if (covers.length > 0) resource.checkCovers = [...new Set(covers)];
  }
  // A process's arguments cannot hold a NUL: refused here, with its line, not when the command would first run.
  for (const field of ["check_cmd", "reload_cmd"] as const) {
    if (str(field)?.includes("\0")) at(`field "${field}" contains a NUL byte (\\u0000), which a command cannot hold`, lines[field]);
  }
  if (resource.src === "") at(`field "src" is empty`, lines.src);
  if (resource.dest === "") at(`field "dest" is empty`, lines.dest);

  const mode = str("mode");
  if (mode !== undefined) {
    if (/^0?[0-7]{3,4}$/.test(mode)) resource.mode = parseInt(mode, 8);
    else at(`field "mode" must be an octal string like "0644", got ${JSON.stringify(mode)}`, lines.mode);
  }
  resource.uid = ownerId(fields, "uid", "owner", userId, at, lines);
  resource.gid = ownerId(fields, "gid", "group", groupId, at, lines);

  const wait = str("wait");
  if (wait !== undefined) {
    const parsed = parseWait(wait);
    if (typeof parsed === "string") at(parsed, lines.wait);
    else resource.wait = parsed;
  }
  for (const [field, prop] of [["check_timeout", "checkTimeoutMs"], ["reload_timeout", "reloadTimeoutMs"]] as const) {
    const value = str(field);
    if (value === undefined) continue;
    const ms = parseDuration(value);
    if (ms === undefined || ms <= 0) at(`field "${field}" must be a duration like "10s", got ${JSON.stringify(value)}`, lines[field]);
    else resource[prop] = ms;
  }
  return errors.length > 0 ? { errors } : { resource, errors };
}

/** `uid`/`owner` (and `gid`/`group`) name the same thing two ways; both set must agree. */
function ownerId(
  fields: Record<string, unknown>,
  idField: string,
  nameField: string,
  resolve: (name: string) => number | undefined,
  at: (msg: string, line?: number) => void,
  lines: Record<string, number>,
): number | undefined {
  const id = fields[idField] as number | undefined;
  const name = fields[nameField] as string | undefined;
  if (id !== undefined && id < 0) at(`field "${idField}" must not be negative`, lines[idField]);
  if (name === undefined) return id;
  const resolved = resolve(name);
  if (resolved === undefined) {
    at(`field "${nameField}": no such ${nameField === "owner" ? "user" : "group"} ${JSON.stringify(name)}`, lines[nameField]);
    return id;
  }
  if (id !== undefined && id !== resolved) {
    at(`fields "${idField}" (${id}) and "${nameField}" (${name} = ${resolved}) disagree`, lines[nameField]);
  }
  return resolved;
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s.trim() === "" ? undefined : s;
}
