/** Where and as whom to reach etcd: what the settings collect and both etcd clients take. */
import { PerchError } from "../../errors.js";

export interface EtcdConnection {
  /** `http(s)://host:port`; several for a cluster (requests fail over between them). */
  endpoints: string[];
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  username?: string;
  password?: string;
}

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
