import { readFileSync } from "node:fs";
import { entraPrismaMssql } from "@entra-sql/prisma";
import { PrismaClient } from "./generated/client.js";

// A small Prisma app for shutdown.test.ts, run in its own process: entraPrismaMssql with a service-principal
// credential (the adapter creates and owns its token source), a few queries and an interactive
// $transaction, then `$disconnect()` (and `adapter.tokenSource.close()` unless told not to), and nothing
// else: no process.exit. The test checks that the process then exits on its own, with code 0.
//
// Settings come from the environment (the secret apart from the rest, never on the command line):
// ENTRA_SQL_PRISMA_APP (JSON: server, port, database, caFile, authorityHost, tenantId, clientId, tokenMode,
// closeTokenSource) and ENTRA_SQL_PRISMA_APP_SECRET. Prints one JSON line after its queries and one
// after $disconnect; never a token or the secret.

interface Settings {
  server: string;
  port: number;
  database: string;
  caFile: string;
  authorityHost: string;
  tenantId: string;
  clientId: string;
  tokenMode: "inline" | "token-credential";
  closeTokenSource: boolean;
}

const settings = JSON.parse(process.env.ENTRA_SQL_PRISMA_APP ?? "") as Settings;
const ca = readFileSync(settings.caFile, "utf8");

const adapter = entraPrismaMssql(
  {
    server: settings.server,
    port: settings.port,
    database: settings.database,
    options: { encrypt: true, serverName: "localhost", cryptoCredentialsDetails: { ca } },
    pool: { min: 0, max: 3 },
  },
  {
    credential: {
      type: "service-principal",
      tenantId: settings.tenantId,
      clientId: settings.clientId,
      clientSecret: process.env.ENTRA_SQL_PRISMA_APP_SECRET ?? "",
    },
    identityOptions: {
      authorityHost: settings.authorityHost,
      disableInstanceDiscovery: true,
      tlsOptions: { ca },
    },
    tokenMode: settings.tokenMode,
    ...(settings.tokenMode === "inline" ? { scope: "https://database.windows.net/.default" } : {}),
  },
);
const prisma = new PrismaClient({ adapter });

const author = await prisma.author.create({ data: { name: `child-${settings.tokenMode}` } });
const [books, authors] = await Promise.all([
  prisma.book.count(),
  prisma.author.findMany({ where: { id: author.id }, include: { books: true } }),
]);
const inTransaction = await prisma.$transaction(async (tx) => {
  await tx.book.create({ data: { title: "from the child", authorId: author.id } });
  return tx.book.count({ where: { authorId: author.id } });
});
console.log(JSON.stringify({ books, authors: authors.length, inTransaction }));

await prisma.$disconnect();
if (settings.closeTokenSource) adapter.tokenSource.close();
console.log(JSON.stringify({ disconnected: Date.now() }));
