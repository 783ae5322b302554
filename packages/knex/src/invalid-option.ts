import { invalidOptionFor } from "@entra-sql/core";

// Options of this package fail with core's InvalidOptionError under this package's name.

export const PACKAGE_NAME = "@entra-sql/knex";
export const invalidOption = invalidOptionFor(PACKAGE_NAME);
