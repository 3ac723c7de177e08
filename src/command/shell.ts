/** What `/bin/sh -c` is given: the script around the command, and the environment. */

/**
 * The shell waits for the command's background jobs, and on SIGTERM lives just long enough to reap
 * them: an orphan goes to PID 1, which perch may be. After a SIGTERM it waits only for the jobs still
 * in its process group (they had the SIGTERM too): one that left it (setsid) would hold the shell past
 * the timeout. Exits with the command's status, 143 on SIGTERM.
 */
export function wrapCommand(command: string): string {
  return [
    "exec 2>&1",
    "trap 'perch_term=1' TERM",
    command,
    "perch_status=$?",
    '[ -n "$perch_term" ] || wait',
    // /proc/PID/stat: "pid (comm) state ppid pgrp ...", comm possibly holding spaces and parentheses.
    `if [ -n "$perch_term" ]; then for perch_job in $(jobs -p); do [ "$(sed -n 's/.*) [^ ]* [^ ]* \\([0-9]*\\) .*/\\1/p' /proc/$perch_job/stat 2>/dev/null)" != "$$" ] || wait $perch_job; done; exit 143; fi`,
    "exit $perch_status",
  ].join("\n");
}

/** perch's own secret: no check or reload command needs it (SECURITY.md). */
const WITHHELD_VARIABLES: ReadonlySet<string> = new Set(["ETCD_PASSWORD"]);

export function commandEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !WITHHELD_VARIABLES.has(name)));
}
