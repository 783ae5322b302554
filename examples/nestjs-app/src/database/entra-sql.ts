import { createTokenSource, type TokenSource, type TokenSourceOptions } from "@entra-sql/core";
import type { EntraMssqlEvent } from "@entra-sql/mssql";
import { entraDataSourceOptions } from "@entra-sql/typeorm";
import { Logger, type OnApplicationShutdown } from "@nestjs/common";
import type { ModuleRef } from "@nestjs/core";
import type { TypeOrmModuleOptions } from "@nestjs/typeorm";
import { DataSource } from "typeorm";
import type { AppConfig } from "../config";
import { CreateNotes1700000000000 } from "../migrations/1700000000000-create-notes";
import { type RunningStandIns, startStandIns } from "../stand-ins";

// The database side of the app, one provider: the Entra token source (created here, so the health
// endpoint can report on it and shutdown can close it), the TypeORM options TypeOrmModule.forRootAsync
// gets (entraDataSourceOptions), and the shutdown that destroys the DataSource, then closes the token
// source. Without AZURE_SQL_SERVER it first starts the local stand-ins and logs in as their demo
// service principal.

const SQL_SCOPE = "https://database.windows.net/.default";

/** The last token the source fetched: when, why and from where (never the token). */
export interface TokenRefresh {
  at: string;
  reason: "cold" | "refresh" | "expired" | "invalidated";
  source: string;
  durationInMs: number;
}

export class EntraSql implements OnApplicationShutdown {
  private readonly logger = new Logger("EntraSql");
  private lastRefresh: TokenRefresh | undefined;
  private tokensFetched = 0;
  private connectionsOpened = 0;
  private connectionsRetired = 0;

  private constructor(
    readonly config: AppConfig,
    readonly tokenSource: TokenSource,
    private readonly standIns: RunningStandIns | undefined,
    private readonly moduleRef: ModuleRef,
  ) {
    tokenSource.on("token-acquired", (event) => {
      this.tokensFetched += 1;
      this.lastRefresh = {
        at: new Date().toISOString(),
        reason: event.reason,
        source: event.source,
        durationInMs: Math.round(event.durationInMs),
      };
      this.logger.log(
        `token fetched (${event.reason}) from ${event.source}, expires ${new Date(event.expiresOnTimestamp).toISOString()}`,
      );
    });
    tokenSource.on("source-failed", (event) =>
      this.logger.warn(`credential source ${event.source} failed (${event.kind}): ${event.error.message}`),
    );
  }

  /** The provider factory: stand-ins if no server is configured, then the token source. */
  static async create(config: AppConfig, moduleRef: ModuleRef): Promise<EntraSql> {
    if (config.server !== undefined) {
      const tokenSource = createTokenSource({ credential: config.credential });
      return new EntraSql(config, tokenSource, undefined, moduleRef);
    }
    const logger = new Logger("EntraSql");
    logger.log("AZURE_SQL_SERVER is not set: starting the local stand-ins");
    const standIns = await startStandIns();
    const { entra } = standIns.settings;
    const options: TokenSourceOptions = {
      credential: {
        type: "service-principal",
        tenantId: entra.tenantId,
        clientId: entra.clientId,
        clientSecret: entra.clientSecret,
      },
      identityOptions: {
        authorityHost: entra.authorityHost,
        disableInstanceDiscovery: true,
        tlsOptions: { ca: standIns.entraCa },
      },
    };
    try {
      return new EntraSql(config, createTokenSource(options), standIns, moduleRef);
    } catch (error) {
      await standIns.stop();
      throw error;
    }
  }

  /** What TypeOrmModule.forRootAsync's factory returns. */
  typeOrmOptions(): TypeOrmModuleOptions {
    const { config, standIns } = this;
    const target = standIns
      ? {
          host: standIns.settings.sql.host,
          port: standIns.settings.sql.port,
          database: standIns.settings.sql.database,
          // A loopback host names no cloud: say which scope the token is for ("inline" mode only).
          ...(config.tokenMode === "inline" ? { scope: SQL_SCOPE } : {}),
          options: {
            encrypt: true,
            trustServerCertificate: false,
            serverName: "localhost",
            cryptoCredentialsDetails: { ca: standIns.sqlCa },
          },
        }
      : {
          host: config.server,
          port: config.port,
          database: config.database,
          ...(config.scope === undefined ? {} : { scope: config.scope }),
          options: { encrypt: true },
        };
    this.logger.log(`connecting to ${target.host}:${target.port} (token mode ${config.tokenMode})`);
    return {
      ...entraDataSourceOptions({
        tokenSource: this.tokenSource,
        tokenMode: config.tokenMode,
        maxAgeInMs: config.maxAgeSeconds * 1000,
        onEvent: (event) => this.onConnectionEvent(event),
        ...target,
        migrations: [CreateNotes1700000000000],
        migrationsRun: true,
        synchronize: false,
        pool: { max: 5, min: 0 },
      }),
      // @nestjs/typeorm's own options: entities come from TypeOrmModule.forFeature([...]), and a failed
      // start gives up after 3 attempts, 2 s apart (default: 9, 3 s apart).
      autoLoadEntities: true,
      retryAttempts: 3,
      retryDelay: 2000,
    };
  }

  private onConnectionEvent(event: EntraMssqlEvent): void {
    if (event.type === "connection-opened") {
      this.connectionsOpened += 1;
      this.logger.log(
        `connection opened in ${event.durationInMs} ms, retires by ${new Date(event.retireAt).toISOString()}`,
      );
    } else if (event.type === "connection-retired") {
      this.connectionsRetired += 1;
      this.logger.log(
        `connection retired (${event.reason}, at ${event.at}) after ${Math.round(event.ageInMs / 1000)} s`,
      );
    } else {
      this.logger.warn(`${event.type}: ${JSON.stringify(event)}`);
    }
  }

  /** The token source's state for the health endpoint: sources and times, never a token. */
  tokenHealth(now = Date.now()) {
    const summary = this.tokenSource.toJSON();
    return {
      activeSource: summary.activeSource ?? null,
      closed: summary.closed,
      scopes: summary.scopes.map((entry) => ({
        scope: entry.scope,
        source: entry.source ?? null,
        expiresOn: entry.expiresOn ?? null,
        validForSeconds:
          entry.expiresOn === undefined
            ? null
            : Math.max(0, Math.floor((Date.parse(entry.expiresOn) - now) / 1000)),
        refreshFrom: entry.refreshFrom ?? null,
        fetching: entry.fetching,
        retryScheduled: entry.retryScheduled,
      })),
      lastRefresh: this.lastRefresh ?? null,
      tokensFetched: this.tokensFetched,
      connections: { opened: this.connectionsOpened, retired: this.connectionsRetired },
    };
  }

  /**
   * Shutdown (app.enableShutdownHooks): the DataSource first (TypeOrmModule would destroy it too; it
   * skips one already destroyed), then the token source, then the stand-ins if this app started them.
   */
  async onApplicationShutdown(signal?: string): Promise<void> {
    this.logger.log(`shutting down${signal ? ` (${signal})` : ""}`);
    try {
      const dataSource = this.moduleRef.get(DataSource, { strict: false });
      if (dataSource.isInitialized) await dataSource.destroy();
    } catch (error) {
      // No DataSource (the app failed before TypeORM started) or destroy failed: close the rest anyway.
      this.logger.warn(`DataSource: ${(error as Error).message}`);
    }
    this.tokenSource.close();
    await this.standIns?.stop();
    this.logger.log("DataSource destroyed, token source closed");
  }
}
