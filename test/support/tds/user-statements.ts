import { type BatchOutcome, SqlServerError, type StatementOutcome } from "../sql-engine/types.js";
import {
  cannotDropUser,
  duplicateDisplayName,
  principalNotFound,
  type ServerError,
  userAlreadyExists,
} from "./azure-errors.js";
import { type DatabaseUsers, UserExistsError } from "./database-users.js";
import type { UserStatement } from "./sql-text.js";

// CREATE USER ... FROM EXTERNAL PROVIDER, DROP USER and ALTER ROLE ... ADD MEMBER, answered the way
// Azure SQL answers them (directory lookup through `resolvePrincipalName`, SQL Server's error
// numbers). The first failing statement ends the batch, like the engine's batches.

export function runUserStatements(users: DatabaseUsers, statements: readonly UserStatement[]): BatchOutcome {
  const outcomes: StatementOutcome[] = [];
  const fail = (error: ServerError) =>
    outcomes.push({
      kind: "error",
      error: new SqlServerError(error.message, error.number, error.state, error.severity),
    });
  for (const statement of statements) {
    const error = runOne(users, statement);
    if (error) {
      fail(error);
      break;
    }
    outcomes.push({ kind: "done" });
  }
  return { statements: outcomes };
}

function runOne(users: DatabaseUsers, statement: UserStatement): ServerError | undefined {
  switch (statement.kind) {
    case "create-user":
      try {
        users.create({ name: statement.name, objectId: statement.objectId }, new Date());
        return undefined;
      } catch (error) {
        if (error instanceof UserExistsError) return userAlreadyExists(statement.name);
        if (error instanceof Error && error.name === "AmbiguousPrincipalError") {
          return duplicateDisplayName(statement.name);
        }
        return principalNotFound(statement.name);
      }
    case "drop-user":
      return users.drop(statement.name) || statement.ifExists ? undefined : cannotDropUser(statement.name);
    case "add-role-member": {
      const user = users.get(statement.name);
      if (!user) {
        return {
          number: 15151,
          state: 1,
          severity: 16,
          message: `Cannot add the principal '${statement.name}', because it does not exist or you do not have permission.`,
        };
      }
      if (!user.roles.includes(statement.role)) user.roles.push(statement.role);
      return undefined;
    }
    case "set-default-schema": {
      const user = users.get(statement.name);
      if (!user) {
        return {
          number: 15151,
          state: 1,
          severity: 16,
          message: `Cannot alter the user '${statement.name}', because it does not exist or you do not have permission.`,
        };
      }
      user.defaultSchema = statement.schema;
      return undefined;
    }
  }
}
