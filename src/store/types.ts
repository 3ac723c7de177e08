/**
 * The store interface: two verbs, in the spirit of confd's StoreClient. Everything above the store
 * reads the mirror, never the store, so a store only has to list once and stream changes after.
 */

export interface KeyValue {
  key: string;
  value: string;
}

/** Something in the store that perch had to leave out (a key or value that is not UTF-8), as a value. */
export interface StoreProblem {
  /** The key, or its bytes in hex when they are not UTF-8. */
  key?: string;
  message: string;
  severity: "error" | "warning";
}

export interface Snapshot {
  /** The store revision this listing is consistent at (0 for stores without revisions). */
  revision: number;
  /** Every key under the requested prefixes, at `revision`. Order is not significant. */
  kvs: KeyValue[];
  /** What the listing left out, and why. */
  problems?: StoreProblem[];
}

export type ChangeEvent =
  | { type: "put"; key: string; value: string; revision: number }
  | { type: "delete"; key: string; revision: number };

/** What a change stream reports besides changes. */
export type StreamSignal =
  | { type: "changes"; events: ChangeEvent[]; revision: number; problems?: StoreProblem[] }
  /** The stream could not resume at the requested revision (etcd compacted it): list again. */
  | { type: "compacted"; compactRevision: number }
  | { type: "connected" }
  | { type: "disconnected"; error: Error };

export interface ChangeStream {
  close(): Promise<void>;
}

/** A store a one-shot command reads (render, snapshot): it lists once and never streams. */
export interface ListingStore {
  /** A short name for logs and metrics ("etcd", "file"). */
  readonly kind: string;
  /** List everything under `prefixes` at a single revision. */
  list(prefixes: readonly string[]): Promise<Snapshot>;
  close(): Promise<void>;
}

export interface Store extends ListingStore {
  /**
   * Stream changes under `prefixes` strictly after `afterRevision`. The stream reconnects by
   * itself and resumes after the last revision it delivered; `onSignal` is called in order.
   */
  watch(prefixes: readonly string[], afterRevision: number, onSignal: (signal: StreamSignal) => void): Promise<ChangeStream>;
}
