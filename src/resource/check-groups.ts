/**
 * Check groups (`check_covers`): a resource whose check_cmd reads other resources' files (bird.cfg
 * includes bird_ipam.cfg and bird_aggr.cfg) is checked, written and reloaded with them as one set.
 * Named in conf.d, not derived from the rendered `include` statements: the names are checked when
 * conf.d loads (a typo is an error then, not a silently unchecked file), an include can be
 * conditional or computed by the template, and a confd conf.d without the field keeps confd's
 * behaviour.
 */
import path from "node:path";
import { PerchError } from "../errors.js";
import type { ResourceDefinition } from "./parse-resource.js";

/** A check group: the resource whose check_cmd runs, then those it covers, in check_covers order. */
export interface CheckGroup {
  checker: string;
  members: readonly string[];
}

/** Each group, checked: covered resources exist, have no check of their own, share the checker's directory, belong to one group. */
export function checkGroupProblems(definitions: readonly ResourceDefinition[]): PerchError[] {
  const problems: PerchError[] = [];
  const byName = new Map(definitions.map((def) => [def.name, def]));
  const coveredBy = new Map<string, string>();
  for (const def of definitions) {
    for (const name of def.checkCovers ?? []) {
      const at = (message: string) => problems.push(new PerchError(`check_covers: ${message}`, { file: def.file, line: def.lines.check_covers, resource: def.name }));
      const covered = byName.get(name);
      if (covered === undefined) at(`no resource ${JSON.stringify(name)} (no ${name}.toml)`);
      else if (covered.checkCmd !== undefined || covered.checkCovers !== undefined) at(`${name} has a check_cmd of its own: a covered file is checked by its group's check only`);
      else if (path.dirname(path.normalize(covered.dest)) !== path.dirname(path.normalize(def.dest))) at(`${name}'s dest ${covered.dest} is not in ${def.dest}'s directory (the group is checked and installed together there)`);
      else if (coveredBy.has(name)) at(`${name} is already covered by ${coveredBy.get(name)}`);
      else coveredBy.set(name, def.name);
    }
  }
  return problems;
}

/** Every group among `definitions`, by the name of each of its resources. */
export function checkGroups(definitions: readonly ResourceDefinition[]): Map<string, CheckGroup> {
  const groups = new Map<string, CheckGroup>();
  for (const def of definitions) {
    if (def.checkCovers === undefined) continue;
    const group = { checker: def.name, members: [def.name, ...def.checkCovers] };
    for (const name of group.members) groups.set(name, group);
  }
  return groups;
}

/** --only with each named resource's group mates: a covered file is never written unchecked. */
export function onlyWithGroups(only: readonly string[] | undefined, definitions: readonly ResourceDefinition[]): readonly string[] | undefined {
  if (only === undefined) return undefined;
  const groups = checkGroups(definitions);
  return [...new Set(only.flatMap((name) => groups.get(name)?.members ?? [name]))];
}

/** Gives each grouped resource its loaded group mates (`groupMates`). */
export function linkGroupMates(loaded: Array<{ name: string; checkGroup?: CheckGroup; groupMates?: unknown[] }>): void {
  for (const r of loaded) {
    if (r.checkGroup === undefined) continue;
    const members = r.checkGroup.members;
    r.groupMates = loaded.filter((other) => other !== r && members.includes(other.name));
  }
}
