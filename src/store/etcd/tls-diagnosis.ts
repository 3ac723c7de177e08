/**
 * Why a TLS connection to etcd fails. gRPC reports a failed handshake only as "No connection
 * established. Last error: null", so the handshake is repeated with node:tls to learn why.
 */
import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import * as tls from "node:tls";
import type { TlsFiles } from "./tls-files.js";

/**
 * What is wrong with TLS to the first endpoint that shows a problem, or undefined. `files` is the
 * material the client used (undefined without TLS files); `caFileGiven` says its CA came from a file.
 */
export async function diagnoseTls(urls: readonly URL[], files: TlsFiles | undefined, caFileGiven: boolean): Promise<string | undefined> {
  for (const url of urls) {
    // etcd3 speaks TLS to every endpoint once there are TLS files or an https:// endpoint.
    if (url.protocol !== "https:" && files === undefined) {
      if (await speaksTls(url)) return `${url.host} speaks TLS: use https://${url.host} and give etcd's CA (ETCD_CA_CERT_FILE)`;
      continue;
    }
    const problem = await tlsHandshakeProblem(url, files, caFileGiven);
    if (problem !== undefined) return `TLS handshake with ${url.host} failed: ${problem}`;
  }
  return undefined;
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "");
}

/** Whether a TLS handshake with the endpoint gets anywhere: a plain http:// endpoint given for a TLS server. */
function speaksTls(url: URL): Promise<boolean> {
  const host = hostOf(url);
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port: Number(url.port || 2379), servername: isIP(host) ? undefined : host, rejectUnauthorized: false, ALPNProtocols: ["h2"] });
    const done = (yes: boolean): void => {
      socket.destroy();
      resolve(yes);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once("secureConnect", () => done(true));
    socket.once("error", (err: NodeJS.ErrnoException) => done((err.code ?? "").includes("ALERT")));
  });
}

/** Handshake like gRPC would and report what goes wrong, or undefined if nothing does. */
function tlsHandshakeProblem(url: URL, files: TlsFiles | undefined, caFileGiven: boolean): Promise<string | undefined> {
  const host = hostOf(url);
  return new Promise((resolve) => {
    const socket = tls.connect({
      host,
      port: Number(url.port || 2379),
      servername: isIP(host) ? undefined : host,
      ca: files?.ca,
      cert: files?.cert,
      key: files?.key,
      ALPNProtocols: ["h2"],
    });
    let settle: NodeJS.Timeout | undefined;
    const done = (problem: string | undefined): void => {
      clearTimeout(settle);
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(3000, () => done("no answer"));
    // With TLS 1.3 the server rejects a client certificate only after the client's handshake is done.
    socket.once("secureConnect", () => (settle = setTimeout(() => done(undefined), 300)));
    socket.once("error", (err: NodeJS.ErrnoException) => done(tlsProblem(err, files, caFileGiven)));
  });
}

function tlsProblem(err: NodeJS.ErrnoException, files: TlsFiles | undefined, caFileGiven: boolean): string | undefined {
  const code = err.code ?? "";
  if (code === "ECONNREFUSED") return undefined; // down, not a TLS problem: another endpoint may say more
  if (code.includes("ALERT")) {
    // The server's alert ("bad certificate") does not say why: what perch can see for itself.
    const why = clientCertificateProblem(files, caFileGiven);
    return `the server rejected the client certificate (${code})${why ? `: ${why}` : ""}: check ETCD_CERT_FILE and ETCD_KEY_FILE`;
  }
  if (/CERT|SIGNATURE|ISSUER|ALTNAME/.test(code)) {
    return `the server's certificate is not trusted (${err.message}): check the CA file (ETCD_CA_CERT_FILE)`;
  }
  if (code === "ECONNRESET") return "the server does not speak TLS (use an http:// endpoint without TLS files?)";
  return err.message;
}

/** Why a server may refuse our client certificate: none, expired, not yet valid, or from another CA. */
function clientCertificateProblem(files: TlsFiles | undefined, caFileGiven: boolean): string | undefined {
  if (files?.cert === undefined) return "none was given";
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(files.cert);
  } catch {
    return "it is not a PEM certificate";
  }
  const now = Date.now();
  if (Date.parse(cert.validTo) < now) return `it expired on ${cert.validTo}`;
  if (Date.parse(cert.validFrom) > now) return `it is not valid before ${cert.validFrom}`;
  if (caFileGiven && files.ca !== undefined) {
    try {
      if (!cert.checkIssued(new X509Certificate(files.ca))) return "it was not issued by the CA in ETCD_CA_CERT_FILE";
    } catch {
      // An unreadable CA file is reported by the handshake itself.
    }
  }
  return undefined;
}
