// @entra-sql/cli: the `entra-sql` command (doctor, token, create-user), also callable from code and
// tests with a Writer that captures what it prints.

export { COMMANDS, type CommandName, type ParsedArgs, parseCommandArgs } from "./args.js";
export { type CliContext, runCli } from "./cli.js";
export { EXIT_CODES, type ExitCode, type ExitReason, exitReasonOf } from "./exit-codes.js";
export { duration, stepLines } from "./format.js";
export { memoryWriter, processWriter, type Writer } from "./output.js";
export type { StepResult, Verdict } from "./step.js";
export { isUsageError, UsageError } from "./usage-error.js";
