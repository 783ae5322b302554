import { knexWorkload } from "./knex-demo.js";
import { kyselyWorkload } from "./kysely-demo.js";
import { prismaWorkload } from "./prisma-demo.js";
import { sequelizeWorkload } from "./sequelize-demo.js";
import { typeormWorkload } from "./typeorm-demo.js";
import type { Workload } from "./workload.js";

/** Every example app's workload, in the order the demo and the soak print their columns. */
export const WORKLOADS: readonly Workload[] = [
  typeormWorkload,
  knexWorkload,
  prismaWorkload,
  sequelizeWorkload,
  kyselyWorkload,
];
