// Run a synchronous cleanup however the test process ends (exit, SIGINT, SIGTERM, SIGHUP), so
// that nothing a test started — an etcd, a namespace, a BIRD — outlives it.
const installed = new Set<() => void>();

export function onTestProcessExit(cleanup: () => void): void {
  if (installed.has(cleanup)) return;
  installed.add(cleanup);
  process.on("exit", cleanup);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = (): void => {
      cleanup();
      process.off(signal, onSignal);
      // Re-raise so the default action (or the runner's own handler) still happens.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}
