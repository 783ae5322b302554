import { EXIT_CODES, type ExitReason } from "./exit-codes.js";
import { stepLines } from "./format.js";
import type { Writer } from "./output.js";
import type { StepResult } from "./step.js";

// A run's report. People get each step's lines as soon as it is done, then a result line; `--json`
// gets one JSON object at the end, for scripts and support tickets. The exit code is the first failed
// step's (0 when none failed).

export interface Report {
  command: string;
  target?: Record<string, unknown>;
  /** Extra top-level JSON fields (e.g. `identity`, `claims`). */
  extra?: Record<string, unknown>;
}

export interface StepRecorder {
  readonly steps: readonly StepResult[];
  add(step: StepResult): void;
  /** Writes the result line (or the JSON object) and returns the exit code. */
  finish(report: Report): number;
}

export function recordSteps(writer: Writer, json: boolean): StepRecorder {
  const steps: StepResult[] = [];
  return {
    steps,
    add(step) {
      steps.push(step);
      if (!json) writer.out(`${stepLines(step).join("\n")}\n`);
    },
    finish(report) {
      const reason: ExitReason = steps.find((step) => step.verdict === "fail")?.exitReason ?? "ok";
      const exitCode = EXIT_CODES[reason];
      if (json) {
        const object = {
          command: report.command,
          ok: exitCode === 0,
          exitCode,
          exitReason: reason,
          ...(report.target && { target: report.target }),
          steps,
          ...report.extra,
        };
        writer.out(`${JSON.stringify(object, null, 2)}\n`);
        return exitCode;
      }
      const failure = steps.find((step) => step.verdict === "fail");
      const warned = steps.some((step) => step.verdict === "warn");
      writer.out(
        failure
          ? `result: exit ${exitCode} (${reason}): ${failure.title}: ${failure.summary}\n`
          : `result: exit 0 (ok)${warned ? ", with warnings" : ""}\n`,
      );
      return exitCode;
    },
  };
}
