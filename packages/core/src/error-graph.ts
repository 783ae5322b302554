// Errors wrap one another: @azure/identity keeps msal's error in `cause`, an AggregateError and
// AggregateAuthenticationError hold theirs in `errors`, mssql keeps tedious' error in `originalError`
// (and earlier errors of a batch in `precedingErrors`), TypeORM keeps the driver's in `driverError`,
// mssql rebuilds request errors around the server's ERROR token (`info`). Everything that asks "what
// does this error say underneath" walks this graph.

const CHILD_KEYS = ["cause", "originalError", "driverError", "info"] as const;
const LIST_KEYS = ["errors", "precedingErrors"] as const;
const MAX_VISITED = 64;

/**
 * Every object in the error graph of `root`, breadth-first (the error itself first), each once, at most
 * 64 (a cyclic or huge graph cannot hang anyone).
 */
export function* errorGraph(root: unknown): Generator<object> {
  const queue: unknown[] = [root];
  const seen = new Set<object>();
  while (queue.length > 0 && seen.size < MAX_VISITED) {
    const item = queue.shift();
    if (typeof item !== "object" || item === null || seen.has(item)) continue;
    seen.add(item);
    yield item;
    for (const key of CHILD_KEYS) queue.push(read(item, key));
    for (const key of LIST_KEYS) {
      const list = read(item, key);
      if (Array.isArray(list)) queue.push(...list);
    }
  }
}

/** An error's `name`, when it has a string one. */
export function errorName(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const name = read(error, "name");
  return typeof name === "string" ? name : undefined;
}

/** An error's message (its name when the message is empty), or the thrown value as text. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === "object" && error !== null) {
    const message = read(error, "message");
    if (typeof message === "string") return message;
  }
  return String(error);
}

/** Reads a property without letting a throwing getter escape. */
export function read(item: object, key: string): unknown {
  try {
    return (item as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}
