/**
 * `--calico-v3`: a store that reads Calico's v3 datastore from another store and presents the v1
 * view Calico's confd derives from it, behind the same two verbs. The mirror, the templates and the
 * memo see only v1 keys. A listing derives afresh; each change event updates only what it affects.
 */
import { errorMessage } from "../errors.js";
import type { ChangeEvent, ChangeStream, ListingStore, Snapshot, Store, StoreProblem, StreamSignal } from "../store/types.js";
import { CalicoDerivation, type DerivationProblem, type DerivedChange } from "./derivation.js";
import { readKubernetesFile, type KubernetesObjects, NO_KUBERNETES_OBJECTS } from "./kubernetes.js";

export interface CalicoV3StoreOptions {
  nodeName: string;
  /** The Kubernetes objects file (`--calico-kubernetes`); none: no Secrets, Services or Endpoints. */
  kubernetesFile?: string;
  /** The process environment: CALICO_K8S_NODE_REF and NAMESPACE, as confd reads them. */
  env: Readonly<Record<string, string | undefined>>;
  /** Also told of each problem as it appears (listings and change signals carry them too). */
  onProblem?: (problem: DerivationProblem) => void;
}

/** The derived view for a one-shot command: list only. */
export class CalicoV3Listing implements ListingStore {
  readonly kind: string;
  protected readonly derivation: CalicoDerivation;
  protected revision = 0;
  /** Problems that appeared since they were last handed on with a listing or a change signal. */
  protected appeared: DerivationProblem[] = [];

  /**
   * `sourcePrefixes`: what to list and watch in `source` (see sources.ts: all of a snapshot file,
   * only what the derivation reads from etcd).
   */
  constructor(
    private readonly listingSource: ListingStore,
    protected readonly sourcePrefixes: readonly string[],
    protected readonly options: CalicoV3StoreOptions,
  ) {
    this.kind = listingSource.kind;
    this.derivation = new CalicoDerivation({
      nodeName: options.nodeName,
      nodeRef: options.env.CALICO_K8S_NODE_REF || options.nodeName,
      secretsNamespace: options.env.NAMESPACE || "kube-system",
      onProblem: (problem) => {
        this.appeared.push(problem);
        options.onProblem?.(problem);
      },
    });
  }

  /** Every problem standing after the last listing or change. */
  problems(): DerivationProblem[] {
    return this.derivation.problems();
  }

  async list(prefixes: readonly string[]): Promise<Snapshot> {
    const [kubernetes, snapshot] = await Promise.all([this.readKubernetes(), this.listingSource.list(this.sourcePrefixes)]);
    this.derivation.reset(snapshot.kvs, kubernetes);
    this.revision = snapshot.revision;
    const kvs = [];
    for (const [key, value] of this.derivation.entries()) if (under(key, prefixes)) kvs.push({ key, value });
    const problems = [...(snapshot.problems ?? []), ...this.takeAppeared()];
    return { revision: snapshot.revision, kvs, ...(problems.length > 0 && { problems }) };
  }

  protected takeAppeared(): DerivationProblem[] {
    const taken = this.appeared;
    this.appeared = [];
    return taken;
  }

  close(): Promise<void> {
    return this.listingSource.close();
  }

  protected async readKubernetes(): Promise<KubernetesObjects> {
    return this.options.kubernetesFile === undefined ? NO_KUBERNETES_OBJECTS : readKubernetesFile(this.options.kubernetesFile);
  }
}

/** The derived view for the daemon: listed, then kept up to date from the source's change stream. */
export class CalicoV3Store extends CalicoV3Listing implements Store {
  constructor(
    private readonly source: Store,
    sourcePrefixes: readonly string[],
    options: CalicoV3StoreOptions,
  ) {
    super(source, sourcePrefixes, options);
  }

  async watch(prefixes: readonly string[], afterRevision: number, onSignal: (signal: StreamSignal) => void): Promise<ChangeStream> {
    const emit = (changes: DerivedChange[], revision: number, sourceProblems: readonly StoreProblem[] = []) => {
      const events: ChangeEvent[] = changes.filter((c) => under(c.key, prefixes)).map((c) => ({ ...c, revision }));
      const problems = [...sourceProblems, ...this.takeAppeared()];
      onSignal({ type: "changes", events, revision, ...(problems.length > 0 && { problems }) });
    };
    const stream = await this.source.watch(this.sourcePrefixes, afterRevision, (signal) => {
      if (signal.type !== "changes") return onSignal(signal);
      this.revision = Math.max(this.revision, signal.revision);
      emit(this.derivation.apply(signal.events), signal.revision, signal.problems);
    });
    const closeKubernetes = await this.watchKubernetes((objects) => {
      const changes = this.derivation.setKubernetes(objects);
      if (changes.length > 0 || this.appeared.length > 0) emit(changes, this.revision);
    }, (problem) => onSignal({ type: "changes", events: [], revision: this.revision, problems: [problem] }));
    return {
      close: async () => {
        await closeKubernetes();
        await stream.close();
      },
    };
  }

  /** Re-read the Kubernetes objects file when it changes; a file that does not read keeps the last good objects. */
  private async watchKubernetes(onObjects: (objects: KubernetesObjects) => void, onUnreadable: (problem: DerivationProblem) => void): Promise<() => Promise<void>> {
    const file = this.options.kubernetesFile;
    if (file === undefined) return async () => undefined;
    const { watch } = await import("chokidar");
    const watcher = watch(file, { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 20, pollInterval: 10 } });
    const reread = () =>
      void this.readKubernetes().then(onObjects, (err: unknown) => {
        const problem: DerivationProblem = { message: `${errorMessage(err)}; the last good Kubernetes objects are kept`, severity: "error" };
        this.options.onProblem?.(problem);
        onUnreadable(problem);
      });
    watcher.on("change", reread).on("add", reread);
    await new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
    // An edit between the listing and the watcher being ready raised no event.
    reread();
    return () => watcher.close();
  }
}

function under(key: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => key.startsWith(p));
}
