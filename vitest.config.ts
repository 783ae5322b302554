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
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ["default"],
    // The built packages run as Node runs them for users: their ES module face (dist/*.mjs) imports
    // the CommonJS implementation, which Node, not Vite's transform, must load.
    server: { deps: { external: [/\/packages\/[^/]+\/dist\//] } },
  },
});
