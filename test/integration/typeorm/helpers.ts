import { expect } from "vitest";
import type { StandIns } from "../../support/stand-ins.js";

// Shared by the TypeORM integration files: the Note entity's shape (each file builds the
// EntitySchema from its own TypeORM version), the stand-in's address, the table, the login checks.

export interface Note {
  id: number;
  body: string;
}

/** Columns of the Note EntitySchema, the same for TypeORM 0.3 and 1.x. */
export const NOTE_COLUMNS = {
  id: { type: Number, primary: true, generated: true },
  body: { type: String, length: 200 },
} as const;

export function server(standIns: StandIns) {
  const { sql } = standIns;
  return { host: sql.host, port: sql.port, database: sql.database };
}

/** synchronize stays off (the stand-in does not answer TypeORM's catalog queries): the table by hand. */
export async function createNotesTable(
  dataSource: { query(sql: string): Promise<unknown> },
  tableName: string,
) {
  await dataSource.query(
    `CREATE TABLE "${tableName}" ("id" int NOT NULL IDENTITY(1,1), "body" nvarchar(200) NOT NULL, CONSTRAINT "PK_${tableName}" PRIMARY KEY ("id"))`,
  );
}

/** Every login since `before` succeeded over TLS as the demo app, with a token still valid at login. */
export function expectValidTokenLogins(standIns: StandIns, before: number, authMode: string) {
  const logins = standIns.sql.logins.slice(before);
  expect(logins.length).toBeGreaterThanOrEqual(1);
  for (const login of logins) {
    expect(login).toMatchObject({ ok: true, authMode, encryption: "tls" });
    expect(login.principal?.databaseUser).toBe("entra-sql-demo-app");
    expect(login.tokenExpiresAt?.getTime()).toBeGreaterThan(login.at.getTime());
  }
  return logins;
}
