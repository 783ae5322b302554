import { createRequire } from "node:module";
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
  try {
    const manifest = createRequire(from)(`${name}/package.json`) as { version?: unknown };
    if (typeof manifest.version === "string") return `${name} ${manifest.version}`;
  } catch {
    // Not resolvable from there (bundled, or an exports map without package.json): say so.
  }
  return `${name} (version unknown)`;
}
