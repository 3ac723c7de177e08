/**
 * Where and as whom to reach etcd, and what can be wrong with that before any file is read or
 * connection made: checked here once, for the settings and for both etcd clients.
 */
import { errorMessage, PerchError } from "../../errors.js";

export interface EtcdConnection {
  /** `http(s)://host:port`; several for a cluster (requests fail over between them). */
  endpoints: string[];
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  username?: string;
  password?: string;
}

export type TargetProblem =
  | { kind: "no-endpoints" }
  | { kind: "endpoint"; message: string }
  | { kind: "certificate-without-key" }
  | { kind: "user-without-password" }
  | { kind: "mixed-schemes"; endpoints: readonly string[] };

/**
 * Who reports a problem: the settings (in flags' terms), the etcd3 store (a user reads it), or the
 * direct lister (a debug line, before the etcd3 store takes over and says it in its own words).
 */
export type Voice = "settings" | "store" | "direct";

/** An endpoint as etcd3 takes it (`host:port` means http://), or a PerchError that says what is wrong. */
export function endpointUrl(endpoint: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(endpoint.includes("://") ? endpoint : `http://${endpoint}`);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") {
    throw new PerchError(`invalid etcd endpoint ${JSON.stringify(endpoint)}: expected http://HOST:PORT or https://HOST:PORT`);
  }
  return url;
}

/** With a CA or a client certificate, every endpoint gets TLS, as etcd3 does it. */
export function usesTlsFiles(target: EtcdConnection): boolean {
  return target.caFile !== undefined || target.certFile !== undefined;
}

/** Every problem with `target`, in the order the etcd3 store has always met them. */
export function targetProblems(target: EtcdConnection): TargetProblem[] {
  const problems: TargetProblem[] = [];
  if (target.endpoints.length === 0) problems.push({ kind: "no-endpoints" });
  const urls: URL[] = [];
  for (const endpoint of target.endpoints) {
    try {
      urls.push(endpointUrl(endpoint));
    } catch (err) {
      problems.push({ kind: "endpoint", message: errorMessage(err) });
    }
  }
  if ((target.certFile === undefined) !== (target.keyFile === undefined)) problems.push({ kind: "certificate-without-key" });
  if ((target.username === undefined) !== (target.password === undefined)) problems.push({ kind: "user-without-password" });
  // etcd3 given several hosts refuses this mix; one client per endpoint would take it, and speak TLS
  // to some members only.
  const https = urls.filter((u) => u.protocol === "https:").length;
  if (!usesTlsFiles(target) && https > 0 && https < urls.length) problems.push({ kind: "mixed-schemes", endpoints: target.endpoints });
  return problems;
}

/** The problem in `voice`'s words: each has kept its own, which users and tests know. */
export function sayProblem(problem: TargetProblem, voice: Voice): string {
  const direct = voice === "direct";
  switch (problem.kind) {
    case "no-endpoints":
      return direct ? "no endpoints" : "no etcd endpoints given (set ETCD_ENDPOINTS)";
    case "endpoint":
      return problem.message;
    case "certificate-without-key":
      if (voice === "settings") return "--cert-file and --key-file go together";
      return direct ? "a client certificate without its key, or a key without its certificate" : "an etcd client certificate needs its key: set both ETCD_CERT_FILE and ETCD_KEY_FILE, or neither";
    case "user-without-password":
      return direct ? "a user name without a password, or a password without a user name" : "etcd user name and password go together: set both ETCD_USERNAME and ETCD_PASSWORD, or neither";
    case "mixed-schemes":
      return `${direct ? "" : `cannot use etcd endpoints ${problem.endpoints.join(", ")}: `}a mix of http:// and https:// endpoints`;
  }
}

/** The endpoints as URLs, or the first problem in `voice`'s words, thrown as `toError` makes it. */
export function checkTarget(target: EtcdConnection, voice: Voice, toError: (message: string) => Error = (m) => new PerchError(m)): URL[] {
  const [problem] = targetProblems(target);
  if (problem !== undefined) throw toError(sayProblem(problem, voice));
  return target.endpoints.map(endpointUrl);
}
