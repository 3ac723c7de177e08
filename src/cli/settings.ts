/**
 * Every setting perch takes, in one table: its flag, its PERCH_* variable, its perch.toml key.
 * Precedence is flags, then environment, then perch.toml in the confdir, then defaults; the merged
 * result is validated once and every problem is reported together.
 */
import path from "node:path";
import { PerchError, PerchErrors } from "../errors.js";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "../log/logger.js";
import { parseDuration, parseWait, type WaitWindow } from "../util/duration.js";
import { hasKind, KIND_NAMES, keyLine, readTomlFile } from "../util/toml.js";
import { sayProblem, targetProblems, type EtcdConnection } from "../store/etcd/index.js";

type SettingKind = "string" | "list" | "boolean";

interface SettingSpec {
  kind: SettingKind;
  help: string;
  /** Shown as the flag's value name in --help. */
  arg?: string;
  /** Which subcommands take it ("*" = all). */
  commands: readonly string[] | "*";
  env?: string;
  short?: string;
}

const RENDERING = ["render", "watch", "check"] as const;
const STORE = ["render", "watch", "snapshot"] as const;

export const SETTINGS = {
  confdir: { kind: "string", arg: "DIR", commands: RENDERING, env: "PERCH_CONFDIR", help: "directory holding conf.d/ and templates/ (default: .)" },
  backend: { kind: "string", arg: "etcd|file", commands: STORE, env: "PERCH_BACKEND", help: "where keys come from (default: etcd)" },
  keys: { kind: "string", arg: "FILE", commands: STORE, env: "PERCH_KEYS", help: "file backend: JSON object of key → string value" },
  endpoints: { kind: "list", arg: "URLS", commands: STORE, env: "ETCD_ENDPOINTS", help: "etcd endpoints, comma-separated (default: http://127.0.0.1:2379)" },
  "ca-file": { kind: "string", arg: "FILE", commands: STORE, env: "ETCD_CA_CERT_FILE", help: "etcd TLS: CA certificate" },
  "cert-file": { kind: "string", arg: "FILE", commands: STORE, env: "ETCD_CERT_FILE", help: "etcd TLS: client certificate" },
  "key-file": { kind: "string", arg: "FILE", commands: STORE, env: "ETCD_KEY_FILE", help: "etcd TLS: client key" },
  username: { kind: "string", arg: "USER", commands: STORE, env: "ETCD_USERNAME", help: "etcd user" },
  password: { kind: "string", arg: "PASSWORD", commands: STORE, env: "ETCD_PASSWORD", help: "etcd password (prefer ETCD_PASSWORD: flags show in ps)" },
  "calico-v3": { kind: "boolean", commands: "*", env: "PERCH_CALICO_V3", help: "read Calico v3.16's datastore (v3 resources) and present the v1 keys Calico's confd derives" },
  "calico-kubernetes": { kind: "string", arg: "FILE", commands: ["render", "watch"], env: "PERCH_CALICO_KUBERNETES", help: "with --calico-v3: Kubernetes Secrets, Services and Endpoints as JSON (kubectl get … -o json)" },
  prefix: { kind: "list", arg: "PREFIX", commands: "*", env: "PERCH_PREFIX", help: "render/watch/check: prepended to every resource prefix; snapshot: a prefix to save (repeatable)" },
  "node-name": { kind: "string", arg: "NAME", commands: RENDERING, env: "PERCH_NODE_NAME", help: "node name for //NODENAME and getenv NODENAME (default: $NODENAME, /var/lib/calico/nodename, host name)" },
  root: { kind: "string", arg: "DIR", commands: ["render", "watch"], env: "PERCH_ROOT", help: "place every dest under DIR" },
  only: { kind: "list", arg: "NAME", commands: RENDERING, env: "PERCH_ONLY", help: "only these resources (conf.d base names; repeatable or comma-separated)" },
  noop: { kind: "boolean", commands: ["render", "watch"], env: "PERCH_NOOP", help: "compare only: write nothing, reload nothing" },
  "no-check": { kind: "boolean", commands: ["render"], env: "PERCH_NO_CHECK", help: "with --noop: run no check_cmd (by default --noop checks what would change)" },
  diff: { kind: "boolean", commands: ["render", "watch"], env: "PERCH_DIFF", help: "print a unified diff of every change" },
  "exit-code": { kind: "boolean", commands: ["render"], help: "exit 3 when anything would change" },
  "sync-only": { kind: "boolean", commands: ["render", "watch"], env: "PERCH_SYNC_ONLY", help: "write files but run no reload_cmd" },
  "keep-stage-file": { kind: "boolean", commands: ["render", "watch"], help: "keep the staged file beside the destination" },
  "check-timeout": { kind: "string", arg: "DURATION", commands: ["render", "watch"], env: "PERCH_CHECK_TIMEOUT", help: "default check_cmd timeout (default: 30s)" },
  "reload-timeout": { kind: "string", arg: "DURATION", commands: ["render", "watch"], env: "PERCH_RELOAD_TIMEOUT", help: "default reload_cmd timeout (default: 60s)" },
  wait: { kind: "string", arg: "MIN[:MAX]", commands: ["watch"], env: "PERCH_WAIT", help: "coalesce changes: render when quiet for MIN, at the latest MAX after the first (default: 50ms:500ms)" },
  interval: { kind: "string", arg: "SECONDS", commands: ["watch"], env: "PERCH_INTERVAL", help: "periodic full resync (default: off)" },
  listen: { kind: "string", arg: "HOST:PORT", commands: ["watch"], env: "PERCH_LISTEN", help: "serve /metrics, /healthz and /readyz" },
  output: { kind: "string", arg: "FILE", commands: ["snapshot"], short: "o", help: "snapshot: write here (default: stdout)" },
  "log-level": { kind: "string", arg: "LEVEL", commands: "*", env: "PERCH_LOG_LEVEL", help: `${LOG_LEVELS.join("|")}, or confd's warning, panic (default: info for watch, warn otherwise)` },
  "log-format": { kind: "string", arg: LOG_FORMATS.join("|"), commands: "*", env: "PERCH_LOG_FORMAT", help: "log lines as JSON objects or readable text (default: text on a terminal, json otherwise)" },
  help: { kind: "boolean", commands: "*", short: "h", help: "show help" },
  version: { kind: "boolean", commands: "*", short: "v", help: "show the version" },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;
export type RawSettings = Partial<Record<SettingName, string | string[] | boolean>>;

export interface Config extends EtcdConnection {
  command: string;
  confdir: string;
  backend: "etcd" | "file";
  keys?: string;
  prefix: string[];
  /** Derive Calico's v1 view from its v3 datastore (src/calico-v3/). */
  calicoV3: boolean;
  calicoKubernetes?: string;
  nodeName?: string;
  root?: string;
  only?: string[];
  noop: boolean;
  /** --no-check: a --noop render runs no check_cmd. */
  noCheck: boolean;
  diff: boolean;
  exitCode: boolean;
  syncOnly: boolean;
  keepStageFile: boolean;
  checkTimeoutMs?: number;
  reloadTimeoutMs?: number;
  wait: WaitWindow;
  intervalMs?: number;
  listen?: { host: string; port: number };
  output?: string;
  logLevel: LogLevel;
  /** Undefined: text on a terminal, JSON otherwise (decided where the log is opened). */
  logFormat?: LogFormat;
}

export const DEFAULT_WAIT: WaitWindow = { minMs: 50, maxMs: 500 };

/** Settings from PERCH_* / ETCD_* variables. */
export function settingsFromEnv(env: NodeJS.ProcessEnv): RawSettings {
  const out: RawSettings = {};
  for (const [name, spec] of Object.entries(SETTINGS) as Array<[SettingName, SettingSpec]>) {
    const value = spec.env ? env[spec.env] : undefined;
    if (value === undefined || value === "") continue;
    out[name] = spec.kind === "boolean" ? ["1", "true", "yes"].includes(value.toLowerCase()) : spec.kind === "list" ? splitList(value) : value;
  }
  return out;
}

/** What perch.toml may give for each kind of setting. */
const TOML_FORMS: Readonly<Record<SettingKind, { accepts: (value: unknown) => boolean; name: string }>> = {
  boolean: { accepts: (v) => hasKind(v, "boolean"), name: KIND_NAMES.boolean },
  list: { accepts: (v) => hasKind(v, "string") || hasKind(v, "strings"), name: `${KIND_NAMES.string} or ${KIND_NAMES.strings}` },
  // A number reads as its text (`interval = 30`).
  string: { accepts: (v) => hasKind(v, "string") || typeof v === "number", name: KIND_NAMES.string },
};

/** Settings from `perch.toml` in the confdir (snake_case or kebab-case keys). Missing file: none. */
export function settingsFromFile(file: string, errors: PerchError[]): RawSettings {
  const read = readTomlFile(file, errors);
  if (read === undefined) return {};
  const { text, doc } = read;
  const out: RawSettings = {};
  for (const [rawKey, value] of Object.entries(doc)) {
    const name = rawKey.replaceAll("_", "-") as SettingName;
    const spec: SettingSpec | undefined = (SETTINGS as Record<string, SettingSpec>)[name];
    if (spec === undefined || name === "help" || name === "version") {
      errors.push(new PerchError(`unknown setting "${rawKey}"`, { file, line: keyLine(text, rawKey) }));
      continue;
    }
    if (!TOML_FORMS[spec.kind].accepts(value)) {
      errors.push(new PerchError(`setting "${rawKey}" must be ${TOML_FORMS[spec.kind].name}`, { file, line: keyLine(text, rawKey) }));
      continue;
    }
    out[name] = spec.kind === "list" ? (typeof value === "string" ? splitList(value) : (value as string[])) : spec.kind === "string" ? String(value) : (value as boolean);
  }
  return out;
}

/**
 * Merge (flags over env over `below` over perch.toml) and validate into a Config; throws PerchErrors
 * with every problem. `below` is what a confd-style invocation took from confd.toml and confd's defaults.
 */
export function resolveConfig(command: string, flags: RawSettings, env: NodeJS.ProcessEnv, below: RawSettings = {}): Config {
  const errors: PerchError[] = [];
  // Each layer without its empty values: an empty flag leaves the setting to the layers below it.
  const [fromFlags, fromEnv, fromBelow] = [withoutEmptyValues(flags), settingsFromEnv(env), withoutEmptyValues(below)];
  const confdir = String(fromFlags.confdir ?? fromEnv.confdir ?? fromBelow.confdir ?? ".");
  const fromFile = withoutEmptyValues(settingsFromFile(path.join(confdir, "perch.toml"), errors));
  const raw: RawSettings = { ...fromFile, ...fromBelow, ...fromEnv, ...fromFlags };
  const str = (n: SettingName) => raw[n] as string | undefined;
  const list = (n: SettingName) => raw[n] as string[] | undefined;
  const bool = (n: SettingName) => raw[n] === true;
  const bad = (message: string) => errors.push(new PerchError(message));

  const backend = str("backend") ?? (str("keys") ? "file" : "etcd");
  if (backend !== "etcd" && backend !== "file") bad(`--backend must be etcd or file, got ${JSON.stringify(backend)}`);
  if (backend === "file" && !str("keys") && command !== "check") bad("--backend file needs --keys FILE");

  const levelText = str("log-level");
  const logLevel = (levelText === undefined ? (command === "watch" ? "info" : "warn") : logLevelName(levelText)) as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) bad(`--log-level must be one of ${LOG_LEVELS.join(", ")} (or confd's ${Object.keys(LOG_LEVEL_ALIASES).join(", ")}), got ${JSON.stringify(levelText)}`);
  const logFormat = str("log-format") as LogFormat | undefined;
  if (logFormat !== undefined && !LOG_FORMATS.includes(logFormat)) bad(`--log-format must be ${LOG_FORMATS.join(" or ")}, got ${JSON.stringify(logFormat)}`);

  const duration = (n: SettingName): number | undefined => {
    const v = str(n);
    if (v === undefined) return undefined;
    const ms = parseDuration(v);
    if (ms === undefined || ms <= 0) bad(`--${n} must be a positive duration like "10s", got ${JSON.stringify(v)}`);
    return ms;
  };

  let wait = DEFAULT_WAIT;
  const waitText = str("wait");
  if (waitText !== undefined) {
    const parsed = parseWait(waitText);
    if (typeof parsed === "string") bad(`--${parsed}`);
    else wait = parsed;
  }

  let listen: Config["listen"];
  const listenText = str("listen");
  if (listenText !== undefined) {
    const m = /^(.*):(\d+)$/.exec(listenText);
    const port = m ? Number(m[2]) : NaN;
    if (!m || port > 65535) bad(`--listen must be HOST:PORT, got ${JSON.stringify(listenText)}`);
    else listen = { host: (m[1] as string).replace(/^\[|\]$/g, "") || "0.0.0.0", port };
  }

  const prefixes = list("prefix") ?? [];
  if (command !== "snapshot" && prefixes.length > 1) bad("--prefix may be given once for render, watch and check");
  const calicoV3 = bool("calico-v3");
  if (command === "snapshot" && prefixes.length === 0 && !calicoV3) bad("snapshot needs at least one --prefix (or --calico-v3)");
  // The derived view has Calico's own paths: a global prefix would move every resource off them.
  if (calicoV3 && command !== "snapshot" && prefixes.length > 0) bad("--prefix cannot be combined with --calico-v3: the derived v1 keys are at Calico's own paths (/calico/...)");
  if (str("calico-kubernetes") !== undefined && !calicoV3) bad("--calico-kubernetes needs --calico-v3");
  // A write is always checked: --no-check only spares a --noop render its checks.
  if (bool("no-check") && !bool("noop")) bad("--no-check needs --noop (a write always runs its check_cmd)");

  const config: Config = {
    command,
    confdir,
    backend: backend as Config["backend"],
    keys: str("keys"),
    endpoints: list("endpoints") ?? ["http://127.0.0.1:2379"],
    caFile: str("ca-file"),
    certFile: str("cert-file"),
    keyFile: str("key-file"),
    username: str("username"),
    password: str("password"),
    prefix: prefixes,
    calicoV3,
    calicoKubernetes: str("calico-kubernetes"),
    nodeName: str("node-name"),
    root: str("root"),
    only: list("only"),
    noop: bool("noop"),
    noCheck: bool("no-check"),
    diff: bool("diff"),
    exitCode: bool("exit-code"),
    syncOnly: bool("sync-only"),
    keepStageFile: bool("keep-stage-file"),
    checkTimeoutMs: duration("check-timeout"),
    reloadTimeoutMs: duration("reload-timeout"),
    wait,
    intervalMs: duration("interval"),
    listen,
    output: str("output"),
    logLevel,
    logFormat,
  };
  // A lone certificate or key is refused for every command; a malformed endpoint where etcd is
  // opened (configuration, not an outage: reported at once, never retried). The store reports the rest when it opens.
  const opensEtcd = config.backend === "etcd" && (STORE as readonly string[]).includes(command);
  for (const problem of targetProblems(config)) {
    if (problem.kind === "certificate-without-key" || (opensEtcd && problem.kind === "endpoint")) bad(sayProblem(problem, "settings"));
  }
  if (errors.length > 0) throw new PerchErrors(errors);
  return config;
}

/** confd's (logrus's) level names that perch spells otherwise; pino has no panic level. */
const LOG_LEVEL_ALIASES: Readonly<Record<string, LogLevel>> = { warning: "warn", panic: "fatal" };

/** A level name as perch spells it, in either form's spelling and any case (confd's are case-insensitive). */
export function logLevelName(text: string): string {
  const lower = text.toLowerCase();
  return LOG_LEVEL_ALIASES[lower] ?? lower;
}

/**
 * An empty value (`--key-file=`, `-client-key=`, `key_file = ""`, `[]`) is the setting not given: a run
 * script that expands an unset variable into a flag means "none", not a file named "".
 */
export function isEmptyValue(value: unknown): boolean {
  return value === "" || (Array.isArray(value) && value.length === 0);
}

function withoutEmptyValues(settings: RawSettings): RawSettings {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => !isEmptyValue(value)));
}

export function splitList(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}
