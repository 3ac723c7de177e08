/**
 * What kind of run this is, as the launcher's code cache counts them: a command says it (`render` from etcd
 * with a conf.d, …), and the launcher reads it at exit. The launcher and the program are two bundles, each
 * with its own copy of this module, so the value lives on globalThis under a registered symbol.
 */
const RUN_KIND = Symbol.for("perch.runKind");

type Holder = { [RUN_KIND]?: string };

/** The program's: runs of one kind compile much the same functions (its store's, its templates' helpers). */
export function reportRunKind(kind: string): void {
  (globalThis as Holder)[RUN_KIND] = kind;
}

/** The launcher's: what the program reported, if it did. */
export function reportedRunKind(): string | undefined {
  return (globalThis as Holder)[RUN_KIND];
}
