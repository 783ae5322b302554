import { commandOf, parseCommandArgs } from "./args.js";
import { EXIT_CODES } from "./exit-codes.js";
import { helpText } from "./help.js";
import type { Writer } from "./output.js";
import { isUsageError } from "./usage-error.js";

// The command line, dispatched: `entra-sql COMMAND [options]`. Returns the exit code; everything
// printed goes through `writer`. A usage error prints the message and the fix on stderr (exit 2);
// anything unexpected prints its message (exit 1), never a token: no step puts one in an error.

export interface CliContext {
  writer: Writer;
  /** The environment the credentials read (AZURE_*, PATH for `az`). Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

export async function runCli(argv: readonly string[], context: CliContext): Promise<number> {
  const { writer } = context;
  const env = context.env ?? process.env;
  try {
    const [first, ...rest] = argv;
    if (first === undefined || first === "--help" || first === "-h" || first === "help") {
      (first === undefined ? writer.err : writer.out)(helpText());
      return first === undefined ? EXIT_CODES.usage : EXIT_CODES.ok;
    }
    const args = parseCommandArgs(commandOf(first), rest);
    if ("help" in args) {
      writer.out(helpText(args.command));
      return EXIT_CODES.ok;
    }
    // Each command loads what it needs (tedious only for doctor): help and usage errors stay quick.
    switch (args.command) {
      case "doctor":
        return await (await import("./commands/doctor.js")).doctor(args, writer, env);
      case "token":
        return await (await import("./commands/token.js")).token(args, writer, env);
      case "create-user":
        return (await import("./commands/create-user.js")).createUser(args, writer);
    }
  } catch (error) {
    if (isUsageError(error)) {
      writer.err(`${error.message}\nfix: ${error.fix}\n`);
      return EXIT_CODES.usage;
    }
    writer.err(
      `entra-sql: unexpected error: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`,
    );
    return EXIT_CODES.internal;
  }
}
