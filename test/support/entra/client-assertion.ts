import { compactVerify, errors as joseErrors } from "jose";
import type { AppRecord, CertificateRecord } from "./directory.js";
import { aadsts } from "./entra-errors.js";
import type { FederatedIssuerRegistry } from "./federated-issuer.js";

// Verification of `client_assertion` JWTs, the way Entra does it:
// - certificate credentials: the app signs with a registered certificate's key (MSAL: PS256 with a
//   `x5t#S256` header; older clients RS256 with `x5t`), `iss` = `sub` = client id, `aud` = the
//   token endpoint, within nbf/exp (Entra tolerates some clock skew; MSAL sets nbf = iat + 1 s);
// - federated credentials (workload identity): a JWT from an external issuer whose issuer, subject
//   and audience match a federated credential on the app, signed by a key that issuer publishes.
// Entra tells the two apart by the issuer: an assertion the app issued itself names its client id.

export const JWT_BEARER_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

export interface AssertionCheckContext {
  nowMs: number;
  toleranceSeconds: number;
  /** Token endpoint URLs the assertion's `aud` may name (the one requested, as the client saw it). */
  validAudiences: readonly string[];
}

export interface PeekedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

/** Decodes without verifying; throws AADSTS50027 for anything that is not a JWS compact JWT. */
export function peekJwt(jwt: string): PeekedJwt {
  const parts = jwt.split(".");
  if (parts.length !== 3) throw aadsts.malformedAssertion();
  try {
    const header: unknown = JSON.parse(Buffer.from(parts[0] ?? "", "base64url").toString("utf8"));
    const payload: unknown = JSON.parse(Buffer.from(parts[1] ?? "", "base64url").toString("utf8"));
    if (!isRecord(header) || !isRecord(payload)) throw aadsts.malformedAssertion();
    return { header, payload };
  } catch {
    throw aadsts.malformedAssertion();
  }
}

/** Is this a federated assertion (issued by someone other than the app itself)? */
export function isFederatedAssertion(peeked: PeekedJwt, clientId: string): boolean {
  return (
    typeof peeked.payload.iss === "string" && peeked.payload.iss.toLowerCase() !== clientId.toLowerCase()
  );
}

export async function verifyCertificateAssertion(
  assertion: string,
  peeked: PeekedJwt,
  app: AppRecord,
  context: AssertionCheckContext,
): Promise<"certificate"> {
  const { header, payload } = peeked;
  if (header.alg !== "PS256" && header.alg !== "RS256") throw aadsts.malformedAssertion();
  const certificate = findCertificate(app.certificates, header);
  if (!certificate) {
    const presented =
      typeof header.x5t === "string"
        ? Buffer.from(header.x5t, "base64url").toString("hex").toUpperCase()
        : String(header["x5t#S256"] ?? "(none)");
    throw aadsts.certificateNotRegistered(presented, app.clientId);
  }
  try {
    await compactVerify(assertion, certificate.publicKey, { algorithms: [header.alg] });
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) throw aadsts.assertionSignatureInvalid();
    throw error;
  }
  if (!sameId(payload.iss, app.clientId) || !sameId(payload.sub, app.clientId))
    throw aadsts.assertionSubject();
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (!audiences.some((aud) => typeof aud === "string" && context.validAudiences.includes(aud))) {
    throw aadsts.assertionAudience();
  }
  checkTimeRange(payload, context);
  return "certificate";
}

export async function verifyFederatedAssertion(
  assertion: string,
  peeked: PeekedJwt,
  app: AppRecord,
  issuers: FederatedIssuerRegistry,
  context: AssertionCheckContext,
): Promise<"federated"> {
  const { payload } = peeked;
  const issuer = String(payload.iss);
  const subject = String(payload.sub ?? "");
  const audiences = (Array.isArray(payload.aud) ? payload.aud : [payload.aud]).filter(
    (aud): aud is string => typeof aud === "string",
  );
  const byIssuer = app.federatedCredentials.filter((f) => f.issuer === issuer);
  if (byIssuer.length === 0) throw aadsts.federatedIssuer(issuer);
  const bySubject = byIssuer.filter((f) => f.subject === subject);
  if (bySubject.length === 0) throw aadsts.federatedSubject(subject);
  if (!bySubject.some((f) => f.audiences.some((aud) => audiences.includes(aud)))) {
    throw aadsts.federatedAudience(audiences.join(", "));
  }
  const keySet = issuers.keySet(issuer);
  // Entra would fetch the issuer's discovery document; an issuer we hold no keys for is unreachable.
  if (!keySet) throw aadsts.federatedIssuer(issuer);
  try {
    await compactVerify(assertion, keySet, { algorithms: ["RS256", "PS256", "ES256"] });
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) throw aadsts.assertionSignatureInvalid();
    throw error;
  }
  checkTimeRange(payload, context);
  return "federated";
}

function findCertificate(
  certificates: readonly CertificateRecord[],
  header: Record<string, unknown>,
): CertificateRecord | undefined {
  const s256 = header["x5t#S256"];
  if (typeof s256 === "string") return certificates.find((c) => c.x5tS256 === s256);
  const sha1 = header.x5t;
  if (typeof sha1 === "string") return certificates.find((c) => c.x5t === sha1);
  return undefined;
}

function checkTimeRange(payload: Record<string, unknown>, context: AssertionCheckContext): void {
  const nowS = Math.floor(context.nowMs / 1000);
  const exp = typeof payload.exp === "number" ? payload.exp : undefined;
  const nbf = typeof payload.nbf === "number" ? payload.nbf : undefined;
  const tolerance = context.toleranceSeconds;
  if (exp === undefined || nowS > exp + tolerance || (nbf !== undefined && nowS < nbf - tolerance)) {
    throw aadsts.assertionTimeRange(nowS, nbf, exp);
  }
}

function sameId(value: unknown, clientId: string): boolean {
  return typeof value === "string" && value.toLowerCase() === clientId.toLowerCase();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
