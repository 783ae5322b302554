// The embedded SQL engine behind the TDS stand-in: runs an explicit subset of T-SQL by translating it to
// Postgres and executing it on PGlite. See README.md for the supported statements.

export { UNMAPPED_ENGINE_ERROR, UNSUPPORTED_STATEMENT } from "./errors.js";
export type { SqlEngineOptions } from "./sql-engine.js";
export { createSqlEngine } from "./sql-engine.js";
export { VERSION_STRING } from "./translate-query.js";
export * from "./types.js";
