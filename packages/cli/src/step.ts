import type { ExitReason } from "./exit-codes.js";

// What one doctor step reports: a verdict, how long it took, one summary line, detail lines, the fix
// when it failed or warned, the exit reason when it failed, and data for `--json`.

export type Verdict = "ok" | "warn" | "fail" | "skip";

export interface StepResult {
  /** Stable id, e.g. "credential", "dns", "login". */
  readonly id: string;
  /** Human title, e.g. "credential", "who am I". */
  readonly title: string;
  readonly verdict: Verdict;
  readonly durationInMs: number;
  readonly summary: string;
  readonly details: readonly string[];
  readonly fix?: string | undefined;
  /** Set when `verdict` is "fail": which exit code the run ends with. */
  readonly exitReason?: ExitReason | undefined;
  /** Machine-readable facts for `--json` (never a token or a secret). */
  readonly data?: Readonly<Record<string, unknown>> | undefined;
}

export type StepOutcome = Omit<StepResult, "id" | "title" | "durationInMs">;

/** Runs `body`, timing it. */
export async function timedStep<T extends { outcome: StepOutcome }>(
  id: string,
  title: string,
  body: () => Promise<T>,
): Promise<T & { result: StepResult }> {
  const started = performance.now();
  const value = await body();
  const durationInMs = Math.round(performance.now() - started);
  return { ...value, result: { id, title, durationInMs, ...value.outcome } };
}

/** A step that did not run because an earlier one failed. */
export function skippedStep(id: string, title: string, because: string): StepResult {
  return { id, title, verdict: "skip", durationInMs: 0, summary: `skipped: ${because}`, details: [] };
}

export function failed(
  exitReason: ExitReason,
  summary: string,
  details: readonly string[],
  fix: string | undefined,
  data?: Record<string, unknown>,
): StepOutcome {
  return { verdict: "fail", exitReason, summary, details, fix, data };
}
