/** perch's exit statuses: every one the program uses (README: "Exit status", checked by test/unit/cli-usage.test.ts). */
export const EXIT = { ok: 0, failed: 1, usage: 2, changed: 3 } as const;

/** One phrase each for `perch --help`; the README's table says more. */
export const EXIT_SUMMARY: Readonly<Record<keyof typeof EXIT, string>> = {
  ok: "ok",
  failed: "a resource or reload failed, or the store could not be read",
  usage: "bad usage or configuration",
  changed: "--exit-code and something would change",
};
