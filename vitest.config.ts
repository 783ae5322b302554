import { defineConfig } from "vitest/config";

// One config for the whole workspace. Each test file runs in its own child process
// (pool "forks"), which the managed-identity tests rely on: msal-node keeps its
// managed-identity cache in process-wide statics.
export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "test/**/*.test.ts", "examples/*/src/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    pool: "forks",
    isolate: true,
    // Two files at a time even on 2 cores (Vitest would run one): most files wait on timers, logins and
    // the stand-ins' I/O rather than the CPU, and every timing check leaves slack for a loaded machine.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ["default"],
    // The built packages run as Node runs them for users: their ES module face (dist/*.mjs) imports
    // the CommonJS implementation, which Node, not Vite's transform, must load.
    server: { deps: { external: [/\/packages\/[^/]+\/dist\//] } },
  },
});
