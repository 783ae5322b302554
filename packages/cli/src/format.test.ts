import { describe, expect, it } from "vitest";
import { duration, stepLines, time } from "./format.js";
import { memoryWriter } from "./output.js";
import { recordSteps } from "./report.js";
import type { StepResult } from "./step.js";

// Human output: durations, one line per step with details and the fix, the result line, and the
// JSON object of --json.

const failedTls: StepResult = {
  id: "tls",
  title: "tls",
  verdict: "fail",
  durationInMs: 35,
  summary: "the certificate is not trusted",
  details: ["certificate: CN=localhost"],
  fix: "Trust the CA.",
  exitReason: "tlsUntrusted",
  data: { trusted: false },
};
const okDns: StepResult = {
  id: "dns",
  title: "dns",
  verdict: "ok",
  durationInMs: 3,
  summary: "x -> 127.0.0.1",
  details: [],
};

describe("format", () => {
  it("durations and times", () => {
    expect([
      duration(42),
      duration(1340),
      duration(12 * 60_000),
      duration(125 * 60_000),
      duration(120 * 60_000),
    ]).toEqual(["42 ms", "1.3 s", "12 min", "2 h 5 min", "2 h"]);
    expect(time(Date.UTC(2026, 0, 1, 12, 0, 0, 123))).toBe("2026-01-01T12:00:00Z");
  });

  it("a step: verdict, title, time, summary; details and the fix indented", () => {
    expect(stepLines(failedTls)).toEqual([
      "FAIL tls             35 ms  the certificate is not trusted",
      "     certificate: CN=localhost",
      "     fix: Trust the CA.",
    ]);
    // A fix the details already show is not repeated.
    expect(stepLines({ ...failedTls, details: ["  fix: Trust the CA."] })).toHaveLength(2);
  });

  it("the report: lines as steps finish and a result line naming the first failure; exit code", () => {
    const writer = memoryWriter();
    const report = recordSteps(writer, false);
    report.add(okDns);
    expect(writer.stdout).toBe("ok   dns              3 ms  x -> 127.0.0.1\n");
    report.add(failedTls);
    expect(report.finish({ command: "doctor" })).toBe(22);
    expect(writer.stdout.split("\n").at(-2)).toBe(
      "result: exit 22 (tlsUntrusted): tls: the certificate is not trusted",
    );
  });

  it("--json: one object, nothing before it", () => {
    const writer = memoryWriter();
    const report = recordSteps(writer, true);
    report.add(okDns);
    report.add({ ...failedTls, verdict: "warn", exitReason: undefined });
    expect(writer.stdout).toBe("");
    expect(
      report.finish({ command: "doctor", target: { server: "x" }, extra: { identity: undefined } }),
    ).toBe(0);
    const object = JSON.parse(writer.stdout);
    expect(object).toMatchObject({
      command: "doctor",
      ok: true,
      exitCode: 0,
      exitReason: "ok",
      target: { server: "x" },
    });
    expect(object.steps.map((s: StepResult) => s.verdict)).toEqual(["ok", "warn"]);
  });
});
