/**
 * confd's command line and confd.toml as perch settings, so a service that ran confd runs perch by its name alone.
 * Precedence is confd's (flags, confd.toml, CONFD_CLIENT_*, defaults), with PERCH_* and ETCD_* after the flags.
 */
import path from "node:path";
import { PerchError, PerchErrors } from "../errors.js";
import { describeValue } from "../util/describe-value.js";
import type { CommandName } from "./argv.js";
import { hasKind, KIND_NAMES, keyLine, readTomlFile, type TomlKind } from "../util/toml.js";
import { didYouMean } from "../util/closest.js";
import { isEmptyValue, logLevelName, type RawSettings, type SettingName } from "./settings.js";

export const CONFD_CONFIG_FILE = "/etc/confd/confd.toml";
const CONFD_DEFAULTS: ConfdValues = { confdir: "/etc/confd", interval: 600 };

type ConfdValue = string | number | boolean | string[];
type ConfdValues = Partial<Record<string, ConfdValue>>;

interface ConfdFlag {
  /** In confd.toml and on the command line; a `strings` flag is repeatable. */
  kind: TomlKind;
  help: string;
  /** Its key in confd.toml, when it has one. */
  toml?: string;
  /** The perch setting it sets as it is; the others are translated in `toPerch`. */
  perch?: SettingName;
}

const FLAGS: Readonly<Record<string, ConfdFlag>> = {
  onetime: { kind: "boolean", toml: "onetime", help: "render once and exit (perch render)" },
  watch: { kind: "boolean", toml: "watch", help: "follow etcd's change stream (perch watch)" },
  interval: { kind: "integer", toml: "interval", help: "without -onetime or -watch: perch watch with a full resync every SECONDS (default 600)" },
  confdir: { kind: "string", toml: "confdir", perch: "confdir", help: "holds conf.d/ and templates/ (default /etc/confd)" },
  "config-file": { kind: "string", help: `confd.toml to read (default ${CONFD_CONFIG_FILE}, skipped when missing)` },
  backend: { kind: "string", toml: "backend", help: "etcd or etcdv3: both read etcd's v3 API" },
  node: { kind: "strings", toml: "nodes", help: "an etcd endpoint (repeatable); host:port gets http://, or https:// with TLS" },
  prefix: { kind: "string", toml: "prefix", perch: "prefix", help: "prepended to every resource's prefix" },
  noop: { kind: "boolean", toml: "noop", perch: "noop", help: "compare only: write nothing, reload nothing" },
  "sync-only": { kind: "boolean", toml: "sync-only", perch: "sync-only", help: "write files, run no reload_cmd" },
  "keep-stage-file": { kind: "boolean", perch: "keep-stage-file", help: "keep the staged file beside the destination" },
  "log-level": { kind: "string", toml: "log-level", help: "trace, debug, info, warn(ing), error, fatal, panic (perch's silent too)" },
  "client-cert": { kind: "string", toml: "client_cert", perch: "cert-file", help: "etcd TLS client certificate (--cert-file)" },
  "client-key": { kind: "string", toml: "client_key", perch: "key-file", help: "etcd TLS client key (--key-file)" },
  "client-ca-keys": { kind: "string", toml: "client_cakeys", perch: "ca-file", help: "etcd TLS CA certificate (--ca-file)" },
  username: { kind: "string", toml: "username", perch: "username", help: "etcd user" },
  password: { kind: "string", toml: "password", perch: "password", help: "etcd password" },
  "basic-auth": { kind: "boolean", toml: "basic_auth", help: "accepted; perch authenticates whenever a user is given" },
  scheme: { kind: "string", toml: "scheme", help: "accepted; confd uses it only for SRV discovery" },
  version: { kind: "boolean", help: "print the version and exit" },
  help: { kind: "boolean", help: "show this help" },
};

/** confd flags (and confd.toml keys) for backends and features perch does not have. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  "srv-domain": "list the etcd endpoints with -node",
  "srv-record": "list the etcd endpoints with -node",
  "client-insecure": "give etcd's CA with -client-ca-keys",
  "auth-token": "it configures a backend perch does not have",
  "auth-type": "it configures a backend perch does not have",
  "app-id": "it configures a backend perch does not have",
  "user-id": "it configures a backend perch does not have",
  "role-id": "it configures a backend perch does not have",
  "secret-id": "it configures a backend perch does not have",
  "secret-keyring": "perch has no encrypted values",
  path: "it configures a backend perch does not have",
  table: "it configures a backend perch does not have",
  separator: "it configures a backend perch does not have",
  file: "for a JSON key file use perch render --backend file --keys FILE",
  filter: "for a JSON key file use perch render --backend file --keys FILE",
};

const UNSUPPORTED_BOOLEANS: ReadonlySet<string> = new Set(["client-insecure"]);

const TOML_KEYS: ReadonlyMap<string, string> = new Map(Object.entries(FLAGS).flatMap(([name, flag]) => (flag.toml ? [[flag.toml, name]] : [])));

/** Invoked as `confd`, or with a confd flag first (`-onetime`, `-confdir=…`; not perch's `-h`/`-v`). */
export function isConfdInvocation(argv: readonly string[], program: string): boolean {
  if (path.basename(program) === "confd") return true;
  const m = /^-([A-Za-z][A-Za-z-]*)(?:=|$)/.exec(argv[0] ?? "");
  return m !== null && m[1] !== undefined && (m[1] in FLAGS || m[1] in UNSUPPORTED);
}

export interface ConfdInvocation {
  command: Extract<CommandName, "render" | "watch">;
  /** From confd's flags: perch's flag layer. */
  flags: RawSettings;
  /** From confd.toml, CONFD_CLIENT_* and confd's defaults: below perch's environment. */
  below: RawSettings;
}

export function translateConfd(argv: readonly string[], env: NodeJS.ProcessEnv, defaultConfigFile = CONFD_CONFIG_FILE): ConfdInvocation {
  const errors: PerchError[] = [];
  const fromFlags = parseFlags(argv, errors);
  const configFile = typeof fromFlags["config-file"] === "string" ? fromFlags["config-file"] : defaultConfigFile;
  const fromFile = readConfdToml(configFile, errors);
  // confd: the CONFD_CLIENT_* variables only fill what confd.toml leaves unset.
  const fromEnv: ConfdValues = {};
  for (const [variable, name] of [["CONFD_CLIENT_CAKEYS", "client-ca-keys"], ["CONFD_CLIENT_CERT", "client-cert"], ["CONFD_CLIENT_KEY", "client-key"]] as const) {
    if (env[variable]) fromEnv[name] = env[variable];
  }
  // confd's etcd default when no node is given anywhere.
  if (env.ETCDCTL_PEERS) fromEnv.node = env.ETCDCTL_PEERS.split(",");
  const below = { ...CONFD_DEFAULTS, ...fromEnv, ...fromFile };
  const merged = { ...below, ...fromFlags };
  const command = merged.onetime === true ? "render" : "watch";
  // confd polls every -interval seconds unless it runs once or watches.
  const polling = merged.onetime !== true && merged.watch !== true;
  const tls = merged["client-cert"] !== undefined || merged["client-ca-keys"] !== undefined;
  const result: ConfdInvocation = {
    command,
    flags: toPerch(fromFlags, polling, tls, errors),
    below: toPerch(below, polling, tls, errors),
  };
  if (errors.length > 0) throw new PerchErrors(errors);
  return result;
}

/** Go's flag package: `-name`, `--name`, `-name=value`, `-name value` (not for booleans). */
function parseFlags(argv: readonly string[], errors: PerchError[]): ConfdValues {
  const values: ConfdValues = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      if (i + 1 < argv.length) errors.push(new PerchError(`unexpected argument ${JSON.stringify(argv[i + 1])} (confd takes flags only)`));
      break;
    }
    const m = /^--?([^-=][^=]*)(?:=(.*))?$/s.exec(arg);
    if (m === null) {
      errors.push(new PerchError(`unexpected argument ${JSON.stringify(arg)} (confd takes flags only)`));
      continue;
    }
    const name = (m[1] as string) === "h" ? "help" : (m[1] as string);
    const inline = m[2];
    const flag = FLAGS[name];
    if (flag === undefined) {
      const why = UNSUPPORTED[name];
      errors.push(new PerchError(why ? `confd flag -${name} is not supported by perch: ${why}` : `unknown confd flag -${name}${didYouMean(name, Object.keys(FLAGS), "-")}`));
      // Skip its value too, so it is not reported as a stray argument: an unknown flag's is what follows unless that is a flag.
      const takesValue = why ? !UNSUPPORTED_BOOLEANS.has(name) : !(argv[i + 1] ?? "-").startsWith("-");
      if (inline === undefined && takesValue) i++;
      continue;
    }
    let text = inline;
    if (flag.kind !== "boolean" && text === undefined) {
      text = argv[++i];
      if (text === undefined) {
        errors.push(new PerchError(`flag needs an argument: -${name}`));
        continue;
      }
    }
    const value = flagValue(name, flag.kind, text, errors);
    if (value === undefined || isEmptyValue(value)) continue;
    values[name] = flag.kind === "strings" ? [...((values[name] as string[] | undefined) ?? []), value as string] : value;
  }
  return values;
}

const GO_BOOLEANS: Readonly<Record<string, boolean>> = { 1: true, t: true, T: true, true: true, TRUE: true, True: true, 0: false, f: false, F: false, false: false, FALSE: false, False: false };

function flagValue(name: string, kind: TomlKind, text: string | undefined, errors: PerchError[]): ConfdValue | undefined {
  if (kind === "boolean") {
    const value = text === undefined ? true : GO_BOOLEANS[text];
    if (value === undefined) errors.push(new PerchError(`invalid boolean value ${JSON.stringify(text)} for -${name}`));
    return value;
  }
  if (kind === "integer") {
    if (!/^[+-]?\d+$/.test(text as string)) {
      errors.push(new PerchError(`invalid value ${JSON.stringify(text)} for -${name}: not an integer`));
      return undefined;
    }
    return Number(text);
  }
  return text;
}

/** confd.toml; missing is fine (confd skips it too), anything perch cannot honour is an error. */
function readConfdToml(file: string, errors: PerchError[]): ConfdValues {
  const read = readTomlFile(file, errors);
  if (read === undefined) return {};
  const { text, doc } = read;
  const values: ConfdValues = {};
  for (const [key, value] of Object.entries(doc)) {
    const line = keyLine(text, key);
    const name = TOML_KEYS.get(key);
    const flag = name === undefined ? undefined : FLAGS[name];
    if (name === undefined || flag === undefined) {
      const why = UNSUPPORTED[key.replaceAll("_", "-")];
      errors.push(new PerchError(why ? `confd setting "${key}" is not supported by perch: ${why}` : `unknown confd setting "${key}"`, { file, line }));
      continue;
    }
    if (!hasKind(value, flag.kind)) {
      errors.push(new PerchError(`confd setting "${key}" must be ${KIND_NAMES[flag.kind]}, got ${describeValue(value)}`, { file, line }));
      continue;
    }
    if (!isEmptyValue(value)) values[name] = value as ConfdValue;
  }
  return values;
}

/** One layer of confd values as perch settings. */
function toPerch(values: ConfdValues, polling: boolean, tls: boolean, errors: PerchError[]): RawSettings {
  const out: RawSettings = {};
  for (const [name, value] of Object.entries(values)) {
    const perch = FLAGS[name]?.perch;
    if (perch === undefined || value === undefined) continue;
    out[perch] = perch === "prefix" ? [value as string] : (value as string | boolean);
  }
  const { backend, node, interval } = values;
  if (backend !== undefined) {
    if (backend === "etcd" || backend === "etcdv3") out.backend = "etcd";
    else errors.push(new PerchError(`confd backend ${JSON.stringify(backend)} is not supported: perch reads etcd (v3 API); use -backend etcdv3`));
  }
  if (node !== undefined) out.endpoints = (node as string[]).map((n) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(n) ? n : `${tls ? "https" : "http"}://${n}`));
  const level = values["log-level"];
  if (typeof level === "string") out["log-level"] = logLevelName(level);
  if (polling && interval !== undefined) {
    if ((interval as number) > 0) out.interval = `${interval}s`;
    else errors.push(new PerchError(`-interval must be a positive number of seconds, got ${interval}`));
  }
  if (values.version === true) out.version = true;
  if (values.help === true) out.help = true;
  return out;
}

/** The line under a usage error: how this program, as invoked, shows confd's flags. */
export function confdHelpHint(program: string): string {
  return `Run '${path.basename(program) === "confd" ? "confd" : "perch"} -help' for the confd flags perch takes.`;
}

export function confdUsage(): string {
  const lines = [
    "usage: perch -FLAG… (confd's command line; perch's own is perch COMMAND [flags], see perch --help)",
    "",
    "confd flags perch takes:",
  ];
  for (const [name, flag] of Object.entries(FLAGS)) {
    const arg = flag.kind === "boolean" ? "" : flag.kind === "integer" ? " SECONDS" : " VALUE";
    lines.push(`  ${`-${name}${arg}`.padEnd(24)} ${flag.help}`);
  }
  lines.push("", "Without -onetime or -watch, perch watches etcd and resyncs every -interval seconds, as confd polled.");
  return lines.join("\n");
}
