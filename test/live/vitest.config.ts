import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// `pnpm test:live`: the suite against a real Azure SQL database (settings: live-settings.ts). Not
// part of `npm test`, which has no Azure; live-suite.test.ts runs this config against the stand-ins.
export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    include: ["test/live/**/*.live.ts"],
    globalSetup: ["test/live/global-setup.ts"],
    pool: "forks",
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // As in the root config: the built packages' ES module face (dist/*.mjs) imports their CommonJS
    // implementation, which Node, not Vite's transform, must load.
    server: { deps: { external: [/\/packages\/[^/]+\/dist\//] } },
  },
});
