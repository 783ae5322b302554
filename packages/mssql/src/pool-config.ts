import { describeOptionValue, invalidOptionFor } from "@entra-sql/core/internal";
import { checkConnectionSettings, checkTarnPoolOptions } from "@entra-sql/driver-kit";
import type { TediousConnection } from "./mssql-driver.js";
import { PACKAGE_NAME } from "./options.js";

const invalid = invalidOptionFor(PACKAGE_NAME);

// The mssql config, checked when a pool is created (after mssql parsed a connection string, if it was
// one). tarn itself would refuse an unknown pool key only once the first connection has logged in.

export type PoolValidate = (connection: unknown) => boolean | Promise<boolean>;
type BeforeConnect = (connection: TediousConnection) => void;

/** Checks `config` and takes out the user's `pool.validate` and `beforeConnect`, which the pool composes. */
export function checkPoolConfig(config: Record<string, unknown>): {
  validate: PoolValidate | undefined;
  beforeConnect: BeforeConnect | undefined;
} {
  checkConnectionSettings(config, "config", PACKAGE_NAME);
  checkTarnPoolOptions(config.pool, "config.pool", PACKAGE_NAME);
  const beforeConnect = config.beforeConnect as BeforeConnect | undefined;
  if (beforeConnect !== undefined && typeof beforeConnect !== "function") {
    throw invalid("config.beforeConnect", describeOptionValue(beforeConnect), "a function");
  }
  // `validate` is taken out (of a copy) so that mssql's tarn options keep `validate: this._poolValidate`.
  const { validate, ...pool } = (config.pool ?? {}) as { validate?: PoolValidate };
  if (validate !== undefined) config.pool = pool;
  return { validate, beforeConnect };
}
