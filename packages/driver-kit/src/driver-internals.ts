import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { invalidOptionFor } from "@entra-sql/core/internal";

// Adapters override or call methods that are not a driver's documented API (mssql's `_poolCreate`,
// Knex's `_stream`, ...). Each adapter lists them and checks them when it is created: a driver version
// without one fails loudly, naming the version, instead of silently losing the handling.

/**
 * Throws an InvalidOptionError (under the adapter's package name, for the option that passed the
 * driver in) when `target` lacks one of `methods`.
 * @example requireMethods(pool.prototype, ["_poolCreate", "_poolValidate"], { packageName, option: "mssql", driver: "mssql 12.7.1", supported: "mssql 11 or 12" });
 */
export function requireMethods(
  target: unknown,
  methods: readonly string[],
  about: { packageName: string; option: string; driver: string; supported: string },
): void {
  const record =
    (typeof target === "object" || typeof target === "function") && target !== null ? target : {};
  const missing = methods.filter((name) => typeof (record as Record<string, unknown>)[name] !== "function");
  if (missing.length === 0) return;
  throw invalidOptionFor(about.packageName)(
    about.option,
    `${about.driver}, which lacks ${missing.join(", ")}`,
    `${about.supported}: this package overrides those methods; report the version at https://github.com/entra-sql/entra-sql/issues`,
  );
}

/**
 * "name version" of the package as installed where `from` (the adapter's `__filename`) resolves it, or
 * "name (version unknown)". For messages only.
 */
export function installedVersion(name: string, from: string): string {
  const version = manifestOf(name, from)?.version;
  return typeof version === "string" ? `${name} ${version}` : `${name} (version unknown)`;
}

function manifestOf(name: string, from: string): { version?: unknown } | undefined {
  const requireFrom = createRequire(from);
  try {
    return requireFrom(`${name}/package.json`);
  } catch {
    // An exports map without "./package.json" (e.g. @prisma/adapter-mssql): from its entry upwards.
  }
  try {
    for (let dir = dirname(requireFrom.resolve(name)); dir !== dirname(dir); dir = dirname(dir)) {
      const file = join(dir, "package.json");
      if (!existsSync(file)) continue;
      const manifest = JSON.parse(readFileSync(file, "utf8")) as { name?: unknown; version?: unknown };
      if (manifest.name === name) return manifest;
    }
  } catch {
    // Not resolvable from there (bundled, say): the version stays unknown.
  }
  return undefined;
}
