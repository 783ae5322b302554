import type { StepResult, Verdict } from "./step.js";

// Human-readable renderings shared by the commands: durations, times, one line per step.

/** "42 ms", "1.3 s", "12 min", "2 h 5 min". */
export function duration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(ms)} ms`;
  if (abs < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.round(ms / 60_000);
  if (Math.abs(minutes) < 60) return `${minutes} min`;
  const hours = Math.trunc(minutes / 60);
  const rest = Math.abs(minutes % 60);
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

/** An ISO time without milliseconds: 2026-01-01T12:00:00Z. */
export function time(timestamp: number | Date): string {
  return new Date(timestamp).toISOString().replace(/\.\d{3}Z$/, "Z");
}

const TAG: Record<Verdict, string> = { ok: "ok  ", warn: "WARN", fail: "FAIL", skip: "skip" };
const TITLE_WIDTH = 12;

/** `ok   credential     42 ms  summary`, then indented details and the fix. */
export function stepLines(step: StepResult): string[] {
  const head = `${TAG[step.verdict]} ${step.title.padEnd(TITLE_WIDTH)} ${duration(step.durationInMs).padStart(8)}  ${step.summary}`;
  const indent = " ".repeat(5);
  const lines = [head, ...step.details.map((line) => `${indent}${line}`)];
  if (step.fix && !step.details.some((line) => line.includes(step.fix as string))) {
    lines.push(`${indent}fix: ${step.fix}`);
  }
  return lines;
}
