import { Controller, Get, HttpException, HttpStatus } from "@nestjs/common";
import { DataSource } from "typeorm";
import { EntraSql } from "../database/entra-sql";

// GET /health: the token source's state (active credential source, token expiry and remaining
// validity, last refresh) and a database ping. 200 when the ping answers, 503 otherwise. Never a token:
// the token source's summary holds sources and times only, and errors are reduced to name and message
// (the library's messages carry no secrets).

const PING_TIMEOUT_MS = 5_000;

@Controller("health")
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly entraSql: EntraSql,
  ) {}

  @Get()
  async check() {
    const database = await this.ping();
    const body = {
      status: database.status === "up" ? "ok" : "error",
      database,
      tokenSource: this.entraSql.tokenHealth(),
    };
    if (database.status !== "up") throw new HttpException(body, HttpStatus.SERVICE_UNAVAILABLE);
    return body;
  }

  private async ping(): Promise<{ status: "up" | "down"; latencyInMs: number; error?: string }> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS);
      });
      await Promise.race([this.dataSource.query("SELECT 1 AS ok"), timeout]);
      return { status: "up", latencyInMs: Math.round(performance.now() - started) };
    } catch (error) {
      const { name, message } = error instanceof Error ? error : new Error(String(error));
      return {
        status: "down",
        latencyInMs: Math.round(performance.now() - started),
        error: `${name}: ${message}`,
      };
    } finally {
      clearTimeout(timer);
    }
  }
}
