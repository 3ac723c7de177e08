/** perch's exit statuses (README: "Exit status"). */
export const EXIT = { ok: 0, failed: 1, usage: 2, changed: 3 } as const;
