/** What `/bin/sh -c` is given: the script around the command, and the environment. */

/**
 * The shell waits for the command's background jobs and, on the timeout's SIGTERM, lives on just
 * long enough to reap its children: a job it left behind would otherwise be adopted by PID 1, and
 * when perch itself is PID 1 (a container's entrypoint) no one would ever reap it. The command's
 * own exit status is kept; a SIGTERM'd run exits 143.
 */
export function wrapCommand(command: string): string {
  return ["exec 2>&1", "trap 'perch_term=1' TERM", command, "perch_status=$?", "wait", '[ -z "$perch_term" ] || exit 143', "exit $perch_status"].join("\n");
}

/** perch's own secret: no check or reload command needs it (SECURITY.md). */
const WITHHELD_VARIABLES: ReadonlySet<string> = new Set(["ETCD_PASSWORD"]);

export function commandEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !WITHHELD_VARIABLES.has(name)));
}
