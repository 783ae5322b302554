import {
  createTokenSource,
  isInvalidOptionError,
  isScopeNotAllowedError,
  isTokenAcquisitionError,
  type SourceFailure,
  type TokenDetails,
  type TokenSource,
} from "@entra-sql/core";
import type { CredentialArgs } from "../args.js";
import { credentialOptions } from "../credential-options.js";
import { failed, type StepOutcome } from "../step.js";
import { UsageError } from "../usage-error.js";

// Step 1: get a token the way the adapters do (core's token source over the named credential chain),
// and report every source tried: used, unavailable, refused or unreachable, with core's fix.

export type SourceOutcome = "used" | "unavailable" | "refused" | "unreachable";

export interface SourceReport {
  source: string;
  outcome: SourceOutcome;
  message?: string;
  fix?: string;
}

export interface CredentialStepValue {
  outcome: StepOutcome;
  /** The token and the source that made it; absent when the step failed. */
  token?: TokenDetails;
  /** When the token arrived (local clock, epoch ms). */
  receivedAt?: number;
  tokenSource?: TokenSource;
}

const OUTCOME_OF_KIND: Record<SourceFailure["kind"], SourceOutcome> = {
  unavailable: "unavailable",
  authentication: "refused",
  transient: "unreachable",
};

export async function credentialStep(
  args: CredentialArgs,
  scope: string,
  env: NodeJS.ProcessEnv,
): Promise<CredentialStepValue> {
  const built = credentialOptions(args.credential, env);
  if (!built.ok) {
    const { source, missing } = built.missing;
    return {
      outcome: failed(
        "noCredential",
        `${source}: not set up here`,
        [`missing: ${missing.join(", ")}`],
        `Set ${missing.join(", ")} for the service principal (Entra ID > App registrations), or pick another --credential.`,
        { sources: [{ source, outcome: "unavailable" }] },
      ),
    };
  }
  let tokenSource: TokenSource;
  try {
    tokenSource = createTokenSource({ ...built.options, scope });
  } catch (error) {
    if (isInvalidOptionError(error) && error.option.startsWith("credential")) {
      throw new UsageError(
        `entra-sql: option --credential is ${args.credential.map((c) => `"${c}"`).join(",")}; expected ${error.expected}.`,
        "pass --credential with a preset name, e.g. --credential cli or --credential managed-identity,cli",
        "--credential",
      );
    }
    throw error;
  }
  const failures: SourceReport[] = [];
  tokenSource.on("source-failed", (event) =>
    failures.push({
      source: event.source,
      outcome: OUTCOME_OF_KIND[event.kind],
      message: event.error.message,
      ...(event.fix !== undefined && { fix: event.fix }),
    }),
  );
  try {
    const token = await tokenSource.getTokenDetails(scope);
    const receivedAt = Date.now();
    const sources = [...failures, { source: token.source, outcome: "used" as const }];
    return {
      outcome: {
        verdict: "ok",
        summary: `${token.source} gave a token for ${scope}`,
        details: sourceLines(sources),
        data: { sources, winner: token.source, scope },
      },
      token,
      receivedAt,
      tokenSource,
    };
  } catch (error) {
    tokenSource.close();
    if (isScopeNotAllowedError(error)) {
      throw new UsageError(
        `entra-sql: option --scope is "${error.scope}"; expected an Azure SQL scope (${error.allowedScopes.join(", ")}).`,
        "pass --scope https://database.windows.net/.default (or your cloud's SQL scope)",
        "--scope",
      );
    }
    if (!isTokenAcquisitionError(error)) throw error;
    const sources: SourceReport[] = error.failures.map((f) => ({
      source: f.source,
      outcome: OUTCOME_OF_KIND[f.kind],
      message: f.message,
      ...(f.fix !== undefined && { fix: f.fix }),
    }));
    const reason = failureReason(error.failures);
    const first =
      error.failures.find((f) => OUTCOME_OF_KIND[f.kind] === outcomeFor(reason)) ?? error.failures[0];
    return {
      outcome: failed(reason, SUMMARY[reason], sourceLines(sources), first?.fix, { sources, scope }),
    };
  }
}

type CredentialFailure = "noCredential" | "credentialRefused" | "identityProviderUnreachable";

const SUMMARY: Record<CredentialFailure, string> = {
  noCredential: "no credential source is set up here",
  credentialRefused: "a credential source was refused",
  identityProviderUnreachable: "the identity provider could not be reached",
};

function failureReason(failures: readonly SourceFailure[]): CredentialFailure {
  if (failures.some((f) => f.kind === "authentication")) return "credentialRefused";
  if (failures.some((f) => f.kind === "transient")) return "identityProviderUnreachable";
  return "noCredential";
}

function outcomeFor(reason: CredentialFailure): SourceOutcome {
  if (reason === "credentialRefused") return "refused";
  return reason === "identityProviderUnreachable" ? "unreachable" : "unavailable";
}

function sourceLines(sources: readonly SourceReport[]): string[] {
  return sources.flatMap((s) => [
    `${s.source}: ${s.outcome}${s.message ? ` (${s.message})` : ""}`,
    ...(s.fix ? [`  fix: ${s.fix}`] : []),
  ]);
}
