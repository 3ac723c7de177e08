/** The target's TLS files, read once at start: what both etcd clients hand to TLS. */
import { readFile } from "node:fs/promises";
import { errorMessage, PerchError } from "../../errors.js";
import type { EtcdConnection } from "./target.js";

export interface TlsFiles {
  /** Undefined without a CA file: each client then trusts its default roots. */
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** A TLS file that could not be read; `file` and `cause` let the direct lister say it its own way. */
export class TlsFileError extends PerchError {
  constructor(
    readonly file: string,
    what: string,
    cause: unknown,
  ) {
    super(`cannot read the etcd ${what} ${file}: ${errorMessage(cause)}`, {}, { cause });
  }
}

/** The files the target names, read in order: CA, client certificate, client key. */
export async function readTlsFiles({ caFile, certFile, keyFile }: EtcdConnection): Promise<TlsFiles> {
  const read = async (file: string | undefined, what: string): Promise<Buffer | undefined> => {
    if (file === undefined) return undefined;
    try {
      return await readFile(file);
    } catch (err) {
      throw new TlsFileError(file, what, err);
    }
  };
  return { ca: await read(caFile, "CA file"), cert: await read(certFile, "client certificate"), key: await read(keyFile, "client key") };
}
