import { Module } from "@nestjs/common";
import { ModuleRef } from "@nestjs/core";
import { type AppConfig, readConfig } from "../config";
import { EntraSql } from "./entra-sql";

/** The app's configuration (environment variables, read once) as an injectable value. */
export const APP_CONFIG = Symbol("APP_CONFIG");

@Module({
  providers: [
    { provide: APP_CONFIG, useFactory: () => readConfig() },
    {
      provide: EntraSql,
      useFactory: (config: AppConfig, moduleRef: ModuleRef) => EntraSql.create(config, moduleRef),
      inject: [APP_CONFIG, ModuleRef],
    },
  ],
  exports: [APP_CONFIG, EntraSql],
})
export class EntraSqlModule {}
