/**
 * confd's path placeholders in a command: `{{.src}}`/`{{src}}` (check_cmd: the stage file) and
 * `{{.dest}}`/`{{dest}}` (reload_cmd: the destination).
 */
export function fillPlaceholder(command: string, name: "src" | "dest", value: string): string {
  // A replacer function inserts the path as is, like confd: "$&" in a path is not a pattern.
  return command.replaceAll(`{{.${name}}}`, () => value).replaceAll(`{{${name}}}`, () => value);
}
