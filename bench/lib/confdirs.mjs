// Confdir variants of the shipped Calico set: the repo's conf.d/ with check_cmd removed and/or
// reload_cmd made cheap, beside a link to the repo's templates/ (so the templates are the shipped
// ones, byte for byte).
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { REPO } from "./perch.mjs";

/**
 * A temp confdir. `check: false` drops every check_cmd; `reload: "true"` turns each reload_cmd
 * into `true <the original command>` — a no-op that succeeds at once, while distinct commands stay
 * distinct, so perch deduplicates and counts them exactly as it would the real ones.
 */
export async function confdirVariant({ check = true, reload = "keep" } = {}) {
  const dir = await mkdtemp(path.join(tmpdir(), "perch-bench-confdir-"));
  await mkdir(path.join(dir, "conf.d"));
  await symlink(path.join(REPO, "templates"), path.join(dir, "templates"));
  for (const name of await readdir(path.join(REPO, "conf.d"))) {
    if (!name.endsWith(".toml")) continue;
    let text = await readFile(path.join(REPO, "conf.d", name), "utf8");
    if (!check) text = text.replace(/^check_cmd\s*=.*\n/m, "");
    if (reload === "true") text = text.replace(/^reload_cmd\s*=\s*"(.*)"\s*$/m, 'reload_cmd = "true $1"');
    await writeFile(path.join(dir, "conf.d", name), text);
  }
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function tempDir(label) {
  return mkdtemp(path.join(tmpdir(), `perch-bench-${label}-`));
}
