/** perch's version, from its package.json (`--version`, `perch_build_info`). */
import { readFileSync } from "node:fs";

export function perchVersion(): string {
  // dist/cli/ and dist/bundle/ sit at the same depth as src/cli/: the file is two levels up from each.
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}
