// The README's usage steps as code, type-checked with the package (not shipped: outside src).
import mssql from "mssql";
import { createEntraMssql } from "./src/index.js";

export async function readmeExample(): Promise<number | undefined> {
  const sql = createEntraMssql(mssql, { tokenSource: { credential: "managed-identity" } });
  const pool = await new sql.ConnectionPool({
    server: "myserver.database.windows.net",
    database: "app",
    pool: { max: 10 },
  }).connect();
  try {
    const { recordset } = await pool
      .request()
      .input("id", sql.Int, 42)
      .query<{ id: number }>("SELECT @id AS id");
    return recordset[0]?.id;
  } finally {
    await pool.close();
    sql.tokenSource.close();
  }
}
