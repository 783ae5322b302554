import { Module } from "@nestjs/common";
import { EntraSqlModule } from "../database/entra-sql.module";
import { HealthController } from "./health.controller";

@Module({
  imports: [EntraSqlModule],
  controllers: [HealthController],
})
export class HealthModule {}
