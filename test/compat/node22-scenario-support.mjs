// Shared by the Node.js 22 halves of the compat tests (tedious20-scenario.mjs, knex-tedious20-scenario.mjs):
// run by the Node 22 binary of @entra-sql/compat-node22 with an IPC channel to the test (node22-harness.ts),
// which runs on Node 20 and owns the stand-ins. Plain JavaScript: no tsx, no build step.
//
// - where tedious 20 is (the one of @entra-sql/compat-node22), and a resolve hook (Node >= 22.15) that
//   points the require("tedious") of ONE package (mssql, knex) at it; nothing else is redirected;
// - a check that every tedious file in the module cache is tedious 20's;
// - the step protocol: before each step the scenario tells the test which step begins and waits for the
//   reply, so the test can set the stand-ins up and slice their login records by step;
// - the result: one JSON line on stdout, exit code 0; on an error { "error", "step" } and exit code 1.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire, registerHooks } from "node:module";
import { dirname, join, sep } from "node:path";
import { pathToFileURL } from "node:url";

export const require = createRequire(import.meta.url);
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const versionOf = (dir) => JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).version;

assert.ok(process.versions.node.startsWith("22."), `expected Node.js 22, this is ${process.version}`);

// ---- tedious 20 ---------------------------------------------------------------------------------------

const fixturePackageJson = require.resolve("@entra-sql/compat-node22/package.json");
const tediousPackageJson = createRequire(fixturePackageJson).resolve("tedious/package.json");
/** The folder of tedious 20 (realpath, as the module cache keys it). */
export const tediousDir = dirname(tediousPackageJson);
export const tediousVersion = versionOf(tediousDir);
assert.ok(tediousVersion.startsWith("20."), `expected tedious 20 in ${tediousDir}, found ${tediousVersion}`);

// Resolved from inside tedious 20's own folder, "tedious" is tedious 20.
const resolveAsTedious20 = createRequire(tediousPackageJson).resolve;

/** tedious 20's main module (loads it if nothing has yet); compare it with what a driver holds. */
export const loadTedious20 = () => require(resolveAsTedious20("tedious"));

/**
 * Points require("tedious") (and "tedious/...") of the modules under `packageDir` at tedious 20. Call it
 * before that package is imported. Returns the number of redirected requests so far.
 */
export function redirectTediousOf(packageDir) {
  const urlPrefix = pathToFileURL(packageDir + sep).href;
  let redirected = 0;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const isTedious = specifier === "tedious" || specifier.startsWith("tedious/");
      if (isTedious && context.parentURL?.startsWith(urlPrefix)) {
        redirected++;
        return { url: pathToFileURL(resolveAsTedious20(specifier)).href, shortCircuit: true };
      }
      return nextResolve(specifier, context);
    },
  });
  return () => redirected;
}

/** Every tedious file in the module cache is tedious 20's, none of another tedious; returns how many. */
export function checkLoadedTedious(who) {
  const files = Object.keys(require.cache).filter((file) => /[\\/]node_modules[\\/]tedious[\\/]/.test(file));
  assert.ok(files.length > 0, "no tedious module was loaded");
  const foreign = files.filter((file) => !file.startsWith(tediousDir + sep));
  assert.deepEqual(foreign, [], `${who} loaded a tedious other than tedious 20`);
  return files.length;
}

// ---- talking to the test ------------------------------------------------------------------------------

/**
 * The settings the test passed (ENTRA_SQL_COMPAT_SETTINGS: tokenMode, scope, the SQL stand-in's address
 * and TLS options, the demo app's token source options) and the step protocol. `testFile` only names the
 * test in the errors when the scenario is run by hand.
 */
export function connectToTest(testFile) {
  const settings = JSON.parse(process.env.ENTRA_SQL_COMPAT_SETTINGS ?? "null");
  assert.ok(settings, `ENTRA_SQL_COMPAT_SETTINGS is not set (run through ${testFile})`);
  assert.ok(process.send, `no IPC channel to the test (run through ${testFile})`);

  const pending = new Map();
  let nextMessageId = 0;
  process.on("message", (message) => {
    const settle = pending.get(message.id);
    pending.delete(message.id);
    settle?.(message);
  });

  /** Tells the test that a step begins (or that an action is due) and waits until it has done its part. */
  function tellTest(message) {
    const id = ++nextMessageId;
    return new Promise((resolve, reject) => {
      pending.set(id, (reply) => (reply.error ? reject(new Error(`test: ${reply.error}`)) : resolve(reply)));
      process.send({ id, ...message });
    });
  }

  const events = [];
  let step = "setup";
  return {
    settings,
    tellTest,
    /** Adapter events, each tagged with the step it happened in. */
    events,
    onEvent: (event) => events.push({ step, ...event }),
    get step() {
      return step;
    },
    /** Step `name` begins: the test sets the stand-ins up for it (and marks its login records). */
    begin(name, extra = {}) {
      step = name;
      return tellTest({ step: name, ...extra });
    },
  };
}

/** Runs the scenario and prints its result line (or the error, with the step it failed in), then exits. */
export async function report(run, currentStep) {
  let line;
  let exitCode = 0;
  try {
    line = JSON.stringify(await run());
  } catch (error) {
    exitCode = 1;
    line = JSON.stringify({
      error: error instanceof Error ? error.stack : String(error),
      step: currentStep(),
    });
  }
  // Exit once the line is written, whatever handles a driver may still hold.
  process.stdout.write(`${line}\n`, () => process.exit(exitCode));
}
