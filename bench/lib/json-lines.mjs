// perch logs one JSON object per line: read a child's stdout as parsed events.

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
        event = JSON.parse(line);
      } catch {
        event = { raw: line };
      }
      onEvent(event, line);
    }
  });
}
