import { describeToken, type TokenDetails, type TokenIdentity } from "@entra-sql/core";
import { duration, time } from "../format.js";
import type { StepOutcome } from "../step.js";

// Step 2: who the token says you are, read from its claims (decoded, not verified), with the times
// that matter: issued, expiry, remaining validity, and the local clock against the token's `iat`.
// Never the token.

/** Beyond this, a clock difference is worth a warning (Entra ID and Azure SQL allow ~5 min of skew). */
const SKEW_WARNING_IN_MS = 60_000;
/** A token valid for less than this cannot serve a pooled connection for long. */
const SHORT_VALIDITY_IN_MS = 5 * 60_000;

export interface IdentityStepValue {
  outcome: StepOutcome;
  identity?: TokenIdentity;
}

export function principalLabel(identity: TokenIdentity): string {
  const kind = identity.kind === "service-principal" ? "app" : identity.kind;
  const name =
    identity.userPrincipalName ??
    identity.displayName ??
    (identity.appId ? `appid ${identity.appId}` : identity.objectId);
  return `${kind} ${name}`;
}

/** The identity JSON shows: every claim describeToken reads, times as ISO strings. */
export function identityData(identity: TokenIdentity, now: number): Record<string, unknown> {
  return {
    ...identity,
    expiresOn: identity.expiresOn.toISOString(),
    issuedAt: identity.issuedAt?.toISOString(),
    notBefore: identity.notBefore?.toISOString(),
    remainingValidityInMs: identity.expiresOn.getTime() - now,
  };
}

export function identityStep(token: TokenDetails, receivedAt: number, scope: string): IdentityStepValue {
  let identity: TokenIdentity;
  try {
    identity = describeToken(token.token);
  } catch (error) {
    return {
      outcome: {
        verdict: "warn",
        summary: "the token is not a readable JWT; the server may still accept it",
        details: [error instanceof Error ? error.message : String(error)],
      },
    };
  }
  const now = Date.now();
  const remaining = identity.expiresOn.getTime() - now;
  const warnings: string[] = [];
  const details = [
    `kind: ${identity.kind}`,
    `tenant: ${identity.tenantId}`,
    `object id: ${identity.objectId}`,
    ...(identity.userPrincipalName ? [`upn: ${identity.userPrincipalName}`] : []),
    ...(identity.appId ? [`appid: ${identity.appId}`] : []),
    ...(identity.displayName ? [`name: ${identity.displayName}`] : []),
    ...(identity.managedIdentityResourceId ? [`resource: ${identity.managedIdentityResourceId}`] : []),
    `audience: ${identity.audience}`,
    ...(identity.issuedAt ? [`issued: ${time(identity.issuedAt)}`] : []),
    `expires: ${time(identity.expiresOn)} (in ${duration(remaining)})`,
  ];
  if (!audienceMatches(identity.audience, scope)) {
    warnings.push(`the audience ${identity.audience} is not the requested scope's resource (${scope})`);
  }
  if (remaining < SHORT_VALIDITY_IN_MS) warnings.push(`the token is valid for ${duration(remaining)} only`);
  let skewInMs: number | undefined;
  if (identity.issuedAt) {
    skewInMs = receivedAt - identity.issuedAt.getTime();
    details.push(`local clock vs iat: ${skewText(skewInMs)}`);
    if (skewInMs < -SKEW_WARNING_IN_MS) {
      warnings.push(`this machine's clock is ${duration(-skewInMs)} behind Entra ID's: sync it (NTP)`);
    }
  }
  if (identity.notBefore && identity.notBefore.getTime() > now + SKEW_WARNING_IN_MS) {
    warnings.push(`the token is not valid before ${time(identity.notBefore)}: check this machine's clock`);
  }
  return {
    identity,
    outcome: {
      verdict: warnings.length > 0 ? "warn" : "ok",
      summary: `${principalLabel(identity)}, valid for ${duration(remaining)}${warnings.length > 0 ? `; ${warnings.join("; ")}` : ""}`,
      details,
      data: { identity: identityData(identity, now), clockSkewInMs: skewInMs },
    },
  };
}

/**
 * `receivedAt - iat`. A few seconds ahead is the network; far ahead usually means the credential
 * handed out a token it had cached (az, managed identity), not a slow clock; behind is a slow clock.
 */
function skewText(skewInMs: number): string {
  if (Math.abs(skewInMs) < 5_000) return `in step (${duration(skewInMs)})`;
  if (skewInMs < 0) return `${duration(-skewInMs)} behind the token's issue time`;
  return `${duration(skewInMs)} after the token's issue time (a cached token, or a fast clock)`;
}

/** `https://database.windows.net/` matches `https://database.windows.net/.default` and `.../` without the slash. */
function audienceMatches(audience: string, scope: string): boolean {
  const resource = scope.replace(/\/?\.default$/, "").replace(/\/+$/, "");
  return audience.replace(/\/+$/, "").toLowerCase() === resource.toLowerCase();
}
