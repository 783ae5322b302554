import { defineConfig } from "prisma/config";

// Read by the Prisma CLI (`prisma generate` in `pnpm build`). No datasource url: the app connects
// through the @entra-sql/prisma driver adapter, never with a connection string.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
});
