// The README's usage steps as code, type-checked with the package (not shipped: outside src).
import knex from "knex";
import { createEntraKnexConfig } from "./src/index.js";

export async function readmeExample(): Promise<number | undefined> {
  const db = knex(
    createEntraKnexConfig(
      knex,
      {
        connection: {
          server: "myserver.database.windows.net",
          database: "app",
          options: { encrypt: true },
        },
        pool: { min: 0, max: 10 },
      },
      { credential: "managed-identity", maxAgeInMs: 30 * 60_000 },
    ),
  );
  try {
    const row = await db("users").where({ id: 42 }).first<{ id: number } | undefined>("id");
    return row?.id;
  } finally {
    await db.destroy(); // also closes the token source this package created
  }
}
