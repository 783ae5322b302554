import { displayText, editDistance } from "@entra-sql/core/internal";

// A command line the CLI cannot run: unknown command, option or value, or a required option missing.
// The message names the option and the value (made safe to show) and says what would work; the run
// exits with EXIT_CODES.usage.

export class UsageError extends Error {
  override name = "UsageError";
  constructor(
    message: string,
    /** What to do instead, e.g. "use --token-mode inline or --token-mode token-credential". */
    readonly fix: string,
    /** The option at fault, e.g. "--token-mode"; absent for an unknown command. */
    readonly option?: string,
  ) {
    super(message);
  }
}

export const isUsageError = (error: unknown): error is UsageError =>
  error instanceof Error && error.name === "UsageError";

/** `"value"` shown safely (control characters replaced, long values cut, token-shaped text hidden). */
export const quoted = (value: string): string => `"${displayText(value, 80)}"`;

/** The closest of `candidates` to `given`, when it is a likely typo. */
export function closest(given: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(given, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(given.length / 3)) ? best : undefined;
}

/** A UsageError for an option's bad value. */
export function badValue(command: string, option: string, value: string, expected: string): UsageError {
  return new UsageError(
    `entra-sql ${command}: option ${option} is ${quoted(value)}; expected ${expected}.`,
    `pass ${option} ${expected}; see \`entra-sql ${command} --help\``,
    option,
  );
}

/** A UsageError for a required option that is missing. */
export function missingOption(command: string, option: string, example: string): UsageError {
  return new UsageError(
    `entra-sql ${command}: option ${option} is required.`,
    `add ${option} ${example}; see \`entra-sql ${command} --help\``,
    option,
  );
}

/**
 * node:util parseArgs' errors (ERR_PARSE_ARGS_*) as UsageErrors naming the option, with a "did you
 * mean" for a misspelt one.
 */
export function fromParseArgsError(command: string, error: unknown, known: readonly string[]): UsageError {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const help = `see \`entra-sql ${command} --help\``;
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const option = /option '([^']+)'/.exec(message)?.[1] ?? "?";
    const suggestion = closest(option.replace(/^-+/, ""), known);
    return new UsageError(
      `entra-sql ${command}: unknown option ${quoted(option)}.`,
      suggestion
        ? `did you mean --${suggestion}? ${help}`
        : `options: ${known.map((k) => `--${k}`).join(", ")}; ${help}`,
      option,
    );
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const option = /'(--?[\w-]+)/.exec(message)?.[1] ?? "?";
    const takesValue = /argument missing/.test(message);
    return new UsageError(
      takesValue
        ? `entra-sql ${command}: option ${option} needs a value.`
        : `entra-sql ${command}: option ${option} takes no value.`,
      takesValue ? `write ${option} <value>; ${help}` : `write ${option} alone; ${help}`,
      option,
    );
  }
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
    const value = /argument '([^']*)'/.exec(message)?.[1] ?? "";
    return new UsageError(
      `entra-sql ${command}: unexpected argument ${quoted(value)}.`,
      `every value follows its option (e.g. --server ${value}); ${help}`,
    );
  }
  return new UsageError(`entra-sql ${command}: ${displayText(message)}`, help);
}
