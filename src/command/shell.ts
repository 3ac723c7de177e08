/** What `/bin/sh -c` is given: the script around the command, and the environment. */

/**
 * The shell waits for the command's background jobs, and on SIGTERM lives just long enough to reap
 * them: an orphan goes to PID 1, which perch may be. Exits with the command's status, 143 on SIGTERM.
 */
export function wrapCommand(command: string): string {
  return ["exec 2>&1", "trap 'perch_term=1' TERM", command, "perch_status=$?", "wait", '[ -z "$perch_term" ] || exit 143', "exit $perch_status"].join("\n");
}

/** perch's own secret: no check or reload command needs it (SECURITY.md). */
const WITHHELD_VARIABLES: ReadonlySet<string> = new Set(["ETCD_PASSWORD"]);

export function commandEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !WITHHELD_VARIABLES.has(name)));
}
