import type { PGlite } from "@electric-sql/pglite";
import type { ParsedStatement } from "./ast.js";
import { CATALOG_QUERY, Catalog } from "./catalog.js";
import { EngineLock } from "./engine-lock.js";
import { parseBatch } from "./parse-statements.js";
import { runSql } from "./pg-runner.js";
import type { Plan } from "./plan.js";
import type { EngineCore } from "./session.js";
import { Session } from "./session.js";
import { bootEngineDatabase } from "./sql-engine-image.js";
import { translateStatement } from "./translate.js";
import type { TranslateContext } from "./translate-query.js";
import type { BatchOutcome, SqlEngine, SqlSession } from "./types.js";
import { SqlServerError } from "./types.js";

// The engine: one PGlite instance (booted once, closed by close()), the lock that serializes sessions on
// it, and the caches that keep per-statement overhead small: parsed batches by SQL text (ORMs repeat
// their statements) and plans per statement and catalog version.

export interface SqlEngineOptions {
  /** DB_NAME(); also the only database name accepted in three-part names. Default "entra_sql". */
  databaseName?: string;
  /** How long a session waits for another session's transaction before error 1222. Default 5000 ms. */
  lockTimeoutMs?: number;
}

const PARSE_CACHE_LIMIT = 2000;

type ParseEntry = { statements: ParsedStatement[] } | { error: SqlServerError };

class Engine implements SqlEngine, EngineCore {
  readonly lock = new EngineLock();
  closed = false;
  private catalogSnapshot: Catalog | undefined;
  private catalogVersion = 0;
  private readonly parseCache = new Map<string, ParseEntry>();
  private readonly planCache = new WeakMap<ParsedStatement, { version: number; plan: Plan }>();

  constructor(
    readonly pg: PGlite,
    readonly databaseName: string,
    readonly lockTimeoutMs: number,
  ) {}

  openSession(context: { principalName: string; roles?: () => readonly string[] }): SqlSession {
    if (this.closed) throw new Error("The SQL engine is closed.");
    return new Session(this, context.principalName, context.roles);
  }

  async exec(sql: string): Promise<BatchOutcome> {
    const session = this.openSession({ principalName: "dbo" });
    try {
      return await session.execute(sql);
    } finally {
      await session.close();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.lock.failAll(new SqlServerError("The SQL engine is shutting down.", 6005, 2, 14));
    await this.pg.close();
  }

  /** The catalog snapshot; reloaded (one query) after DDL or rollbacks. Called with the lock held. */
  async catalog(): Promise<Catalog> {
    if (!this.catalogSnapshot) {
      const result = await runSql(this.pg, CATALOG_QUERY);
      this.catalogSnapshot = Catalog.fromRows(result.rows);
      this.catalogVersion++;
    }
    return this.catalogSnapshot;
  }

  markCatalogDirty(): void {
    this.catalogSnapshot = undefined;
  }

  parse(sql: string): ParsedStatement[] {
    let entry = this.parseCache.get(sql);
    if (!entry) {
      try {
        entry = { statements: parseBatch(sql) };
      } catch (error) {
        if (!(error instanceof SqlServerError)) throw error;
        entry = { error };
      }
      if (this.parseCache.size >= PARSE_CACHE_LIMIT) {
        const oldest = this.parseCache.keys().next().value;
        if (oldest !== undefined) this.parseCache.delete(oldest);
      }
      this.parseCache.set(sql, entry);
    }
    if ("error" in entry) throw entry.error;
    return entry.statements;
  }

  plan(statement: ParsedStatement, ctx: TranslateContext): Plan {
    const cached = this.planCache.get(statement);
    if (cached && cached.version === this.catalogVersion) return cached.plan;
    const plan = translateStatement(statement.stmt, ctx);
    this.planCache.set(statement, { version: this.catalogVersion, plan });
    return plan;
  }
}

/** Boots PGlite, creates the T-SQL support objects and returns the engine. */
export async function createSqlEngine(options: SqlEngineOptions = {}): Promise<SqlEngine> {
  const databaseName = options.databaseName ?? "entra_sql";
  const lockTimeoutMs = options.lockTimeoutMs ?? 5000;
  const pg = await bootEngineDatabase(databaseName);
  return new Engine(pg, databaseName, lockTimeoutMs);
}
