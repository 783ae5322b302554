import { Module } from "@nestjs/common";
import { TypeOrmModule } from "@nestjs/typeorm";
import { EntraSql } from "./database/entra-sql";
import { EntraSqlModule } from "./database/entra-sql.module";
import { HealthModule } from "./health/health.module";
import { NotesModule } from "./notes/notes.module";

// TypeORM's root options come from entraDataSourceOptions (see database/entra-sql.ts): every new
// connection logs in with an Entra ID token, no password anywhere.

@Module({
  imports: [
    EntraSqlModule,
    TypeOrmModule.forRootAsync({
      imports: [EntraSqlModule],
      inject: [EntraSql],
      useFactory: (entraSql: EntraSql) => entraSql.typeOrmOptions(),
    }),
    NotesModule,
    HealthModule,
  ],
})
export class AppModule {}
