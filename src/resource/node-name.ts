/**
 * The node name, in Calico's order: --node-name, then NODENAME, then the file Calico's node
 * container writes, then the host name.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";

export const CALICO_NODENAME_FILE = "/var/lib/calico/nodename";

export function resolveNodeName(flag: string | undefined, env: NodeJS.ProcessEnv, nodenameFile = CALICO_NODENAME_FILE): string {
  if (flag) return flag;
  if (env.NODENAME) return env.NODENAME;
  try {
    const fromFile = readFileSync(nodenameFile, "utf8").trim();
    if (fromFile) return fromFile;
  } catch {
    // Not on a Calico node: fall through to the host name.
  }
  return hostname();
}

/** Calico's convention: `//NODENAME` in a prefix or key stands for `/<node name>`. */
export function substituteNodeName(path: string, nodeName: string): string {
  return path.split("//NODENAME").join(`/${nodeName}`);
}
