// perch logs one JSON object per line: read a child's stdout as parsed events.

/** One log line as an event, its ISO-8601 `time` as epoch milliseconds (the suites subtract times); throws when not JSON. */
export function parseLogLine(line) {
  const event = JSON.parse(line);
  if (typeof event.time === "string") event.time = Date.parse(event.time);
  return event;
}

/** Calls `onEvent(event, line)` for every line of `stream`; a line that is not JSON is `{ raw }`. */
export function onJsonLines(stream, onEvent) {
  let buffer = "";
  stream.setEncoding("utf8").on("data", (chunk) => {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      let event;
      try {
        event = parseLogLine(line);
      } catch {
        event = { raw: line };
      }
      onEvent(event, line);
    }
  });
}
