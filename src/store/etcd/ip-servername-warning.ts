/**
 * grpc-js passes an IP-address endpoint to TLS as the server name, and Node then warns (DEP0123) on
 * every connection. The warning is noise to perch's users (the server certificate is still verified
 * against the address), so only that one warning is dropped.
 */
let quieted = false;

/** Replaces process.emitWarning for the whole process: call it once, at start-up (src/cli/entry.ts). */
export function quietIpServerNameWarning(): void {
  if (quieted) return;
  quieted = true;
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((...args: unknown[]) => {
    const [, second, third] = args;
    const code = typeof second === "object" && second !== null ? (second as { code?: string }).code : third;
    if (code !== "DEP0123") emit(...args);
  }) as typeof process.emitWarning;
}
