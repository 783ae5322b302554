#!/usr/bin/env node
// The `entra-sql` executable: the command line, the process's stdout/stderr and environment.
import { runCli } from "./cli.js";
import { processWriter } from "./output.js";

runCli(process.argv.slice(2), { writer: processWriter(), env: process.env }).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = 1;
  },
);
