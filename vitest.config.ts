import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real etcd and BIRD processes; two cores do not want more forks.
    pool: "forks",
    maxWorkers: 2,
  },
});
