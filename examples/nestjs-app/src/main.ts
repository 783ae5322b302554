import "reflect-metadata";
import { Logger } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import { AppModule } from "./app.module";
import type { AppConfig } from "./config";
import { APP_CONFIG } from "./database/entra-sql.module";

// `node dist/main.js`, configured by environment variables (see README.md).

const SHUTDOWN_LIMIT_MS = 10_000;

async function bootstrap() {
  // abortOnError: false, so a failed start is an exception (exit code 1), not a process.abort().
  const app = await NestFactory.create(AppModule, { abortOnError: false });
  // On SIGTERM/SIGINT: stop taking requests, run the shutdown hooks (DataSource destroyed, token source
  // closed), then exit 0.
  app.enableShutdownHooks(["SIGTERM", "SIGINT"], { useProcessExit: true });
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      setTimeout(() => {
        Logger.error(`shutdown took longer than ${SHUTDOWN_LIMIT_MS} ms; exiting`, "Bootstrap");
        process.exit(1);
      }, SHUTDOWN_LIMIT_MS).unref();
    });
  }
  const config = app.get<AppConfig>(APP_CONFIG);
  await app.listen(config.httpPort, config.httpHost);
  Logger.log(`listening on ${await app.getUrl()}`, "Bootstrap");
}

bootstrap().catch((error: unknown) => {
  Logger.error(error instanceof Error ? `${error.name}: ${error.message}` : String(error), "Bootstrap");
  process.exit(1);
});
