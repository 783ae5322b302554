import { createUserStatement, isInvalidOptionError, type TokenIdentity } from "@entra-sql/core";
import type { CreateUserArgs } from "../args.js";
import type { Writer } from "../output.js";
import { badValue } from "../usage-error.js";

// `entra-sql create-user --name <display name>`: the T-SQL that lets a Microsoft Entra principal into a
// database, from core's createUserStatement (the same text doctor prints after an 18456). No token is
// needed: the name is looked up by the server when the statement runs; `--object-id` creates the user
// by object id instead (for display names that are not unique, error 33131).

export function createUser(args: CreateUserArgs, writer: Writer): number {
  // createUserStatement reads a TokenIdentity; only the name (as a directory display name) and the
  // object id matter here, so the principal is described as a service principal with that name.
  const identity: TokenIdentity = {
    kind: "service-principal",
    displayName: args.name,
    objectId: args.objectId ?? "",
    tenantId: "",
    audience: "",
    issuer: "",
    expiresOn: new Date(0),
  };
  let statement: string;
  try {
    statement = createUserStatement(identity, {
      roles: args.roles,
      withObjectId: args.objectId !== undefined,
    });
  } catch (error) {
    if (isInvalidOptionError(error) && error.option.startsWith("roles")) {
      throw badValue(
        "create-user",
        "--roles",
        args.roles.join(","),
        "comma-separated role names of 1-128 characters",
      );
    }
    if (isInvalidOptionError(error) && error.option === "name") {
      throw badValue("create-user", "--name", args.name, "a name of 1-128 characters");
    }
    throw error;
  }
  writer.out(`-- Run in the target database as a Microsoft Entra admin of the server.\n${statement}\n`);
  return 0;
}
