/** etcd3's and gRPC's errors in a user's terms: what is wrong, and where. */
import { isBrokenCircuitError } from "cockatiel";
import { EtcdAuthenticationFailedError, EtcdPermissionDeniedError, GRPCDeadlineExceededError, GRPCUnavailableError, isRecoverableError } from "etcd3";
import { errorMessage, PerchError } from "../../errors.js";
import { diagnoseTls } from "./tls-diagnosis.js";
import type { TlsFiles } from "./tls-files.js";

/** What an explanation names and what the TLS diagnosis needs. */
export interface Explaining {
  /** The endpoints as given, for messages. */
  endpoints: string;
  urls: readonly URL[];
  username: string | undefined;
  tls: TlsFiles | undefined;
  caFileGiven: boolean;
}

/** The endpoint failed, rather than the request: unreachable, no answer in time, its circuit breaker open. */
export function isEndpointFailure(err: unknown): boolean {
  return err instanceof Error && (isRecoverableError(err) || isBrokenCircuitError(err));
}

/** An etcd3/gRPC error as one that says what is wrong, naming the endpoints. */
export async function explain(err: unknown, context: Explaining): Promise<PerchError> {
  if (err instanceof PerchError) return err;
  const where = `etcd at ${context.endpoints}`;
  const detail = errorMessage(err);
  let message: string;
  if (err instanceof EtcdAuthenticationFailedError) {
    message = `${where}: authentication failed for user "${context.username ?? ""}": wrong user name or password`;
  } else if (err instanceof EtcdPermissionDeniedError) {
    message = `${where}: permission denied (does the user have read access to the keys?): ${detail}`;
  } else if (detail.includes("user name is empty")) {
    message = `${where} requires authentication: set ETCD_USERNAME and ETCD_PASSWORD (${detail})`;
  } else if (err instanceof GRPCDeadlineExceededError) {
    message = `${where}: request timed out (${detail})`;
  } else if (detail.includes("circuit breaker is open")) {
    message = `${where} is unavailable after repeated failures; requests pause for a few seconds before the next try`;
  } else if (/ECONNREFUSED/.test(detail)) {
    message = `cannot connect to ${where}: connection refused (is etcd running and listening there?)`;
  } else if (err instanceof GRPCUnavailableError) {
    // grpc-js adds a timestamp and an empty "Resolution note" that say nothing to a user.
    const plain = detail.replace(/\s*\(\d{4}-\d\d-\d\dT[^)]*\)\.?\s*Resolution note:.*$/s, "");
    const hint = plain.includes("No connection established") ? ` (is ${context.urls.length > 1 ? "each" : "it"} etcd's client URL?)` : "";
    message = `cannot connect to ${where}: ${(await diagnoseTls(context.urls, context.tls, context.caFileGiven)) ?? `${plain}${hint}`}`;
  } else {
    message = `${where}: ${detail}`;
  }
  return new PerchError(message, {}, { cause: err });
}
