import { defineConfig } from "vitest/config";

// .ci/run asks for a JSON report too, to print its own "N passed, N failed" line.
const report = process.env.PERCH_VITEST_REPORT;

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real etcd and BIRD processes; two cores do not want more forks.
    pool: "forks",
    maxWorkers: 2,
    reporters: report ? ["default", ["json", { outputFile: report }]] : ["default"],
  },
});
