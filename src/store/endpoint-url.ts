/** Parsing of etcd endpoints, shared by the etcd3 store and the one-shot lister (which must not load etcd3). */
import { PerchError } from "../errors.js";

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
