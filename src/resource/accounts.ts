/** Owner and group names to ids, from /etc/passwd and /etc/group (Node has no getpwnam). */
import { readFileSync } from "node:fs";

function lookup(file: string, name: string): number | undefined {
  if (/^\d+$/.test(name)) return Number(name);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    if (fields[0] === name && fields[2] !== undefined && /^\d+$/.test(fields[2])) return Number(fields[2]);
  }
  return undefined;
}

export function userId(name: string, passwd = "/etc/passwd"): number | undefined {
  return lookup(passwd, name);
}

export function groupId(name: string, group = "/etc/group"): number | undefined {
  return lookup(group, name);
}
