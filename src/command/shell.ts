/** What `/bin/sh -c` is given: the script around the command, and the environment. */

/**
 * The shell waits for the command's background jobs, and on SIGTERM stops at the next statement,
 * living just long enough to reap its jobs: an orphan goes to PID 1, which perch may be. It waits
 * only for the jobs still in its process group (they had the SIGTERM too, or get the hard stop's
 * SIGKILL before the shell does): one that left it (setsid) would hold the shell past the timeout.
 * Exits with the command's status, 143 on SIGTERM.
 */
export function wrapCommand(command: string): string {
  return wrapped([command]);
}

/**
 * The same script for a shell started before its command is known (spare-shell.ts): it reads the
 * directory to run in from its stdin's first line and the command from the rest, gives the command
 * /dev/null for stdin as runCommand does, and evals it there.
 */
export function wrapSpareCommand(): string {
  return wrapped([
    "IFS= read -r perch_dir",
    // A spare retired unused reads nothing: it ends without running anything.
    '[ -n "$perch_dir" ] || exit 0',
    "perch_command=",
    // The newline inside the quotes puts back the one `read` took off each line.
    'while IFS= read -r perch_line; do perch_command="$perch_command$perch_line',
    '"; done',
    'perch_command="$perch_command$perch_line"',
    'cd -- "$perch_dir" || exit 1',
    "exec </dev/null",
    'eval "$perch_command"',
  ]);
}

function wrapped(body: readonly string[]): string {
  return [
    "exec 2>&1",
    // Its jobs, from /proc: `jobs -p` prints nothing inside $(...) in dash. /proc/PID/stat reads
    // "pid (comm) state ppid pgrp ...", comm possibly holding spaces and parentheses.
    // The command may have changed options and IFS that the loop relies on.
    "perch_stop() {",
    "  set +euf; IFS=' '",
    '  for perch_stat_file in /proc/[0-9]*/stat; do',
    '    read -r perch_stat 2>/dev/null < "$perch_stat_file" || continue',
    '    set -- ${perch_stat##*) }',
    '    [ "$2" = "$$" ] && [ "$3" = "$$" ] || continue',
    '    perch_job=${perch_stat_file#/proc/}',
    '    wait "${perch_job%/stat}" || :',
    "  done",
    "  exit 143",
    "}",
    "trap perch_stop TERM",
    ...body,
    "perch_status=$?",
    "wait",
    "exit $perch_status",
  ].join("\n");
}

/** perch's own secret: no check or reload command needs it (SECURITY.md). */
const WITHHELD_VARIABLES: ReadonlySet<string> = new Set(["ETCD_PASSWORD"]);

export function commandEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !WITHHELD_VARIABLES.has(name)));
}
