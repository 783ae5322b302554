import http from "node:http";
import https from "node:https";
import { createLocalJWKSet, type JSONWebKeySet, type JWTPayload, jwtVerify } from "jose";
import { expect } from "vitest";
import type { RegisteredPrincipal } from "./directory.js";
import type { LocalEntra } from "./local-entra.js";
import { AZURE_CLI_CLIENT_ID } from "./token-minter.js";

// Helpers for the local Entra ID's own tests (not part of its public API).

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json(): Record<string, unknown>;
}

/** One HTTP(S) request; HTTPS trusts only `ca`. Rejects on connection errors (e.g. ECONNREFUSED). */
export function request(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; ca?: string } = {},
): Promise<HttpResult> {
  const target = new URL(url);
  const transport = target.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      target,
      {
        method: options.method ?? "GET",
        headers: options.headers,
        ...(target.protocol === "https:" ? { ca: options.ca } : {}),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: () => JSON.parse(text) as Record<string, unknown>,
          });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** POST a form to the IdP's token endpoint. */
export function postToken(
  entra: LocalEntra,
  form: Record<string, string>,
  tenantId?: string,
): Promise<HttpResult> {
  return request(entra.tokenEndpoint(tenantId), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
    ca: entra.caPem,
  });
}

/** The JWKS fetched over HTTPS from `entra.jwksUri`, trusting only the IdP's CA. */
export async function fetchJwks(entra: LocalEntra): Promise<JSONWebKeySet> {
  const response = await request(entra.jwksUri, { ca: entra.caPem });
  expect(response.status).toBe(200);
  return response.json() as unknown as JSONWebKeySet;
}

export interface TokenExpectation {
  principal: RegisteredPrincipal;
  /** Default `https://database.windows.net/`. */
  audience?: string;
  tenantId?: string;
}

/**
 * Verifies a token the way the SQL stand-in (and Azure SQL) does, against the JWKS fetched over
 * HTTPS, and checks the v1 claims for the expected principal. Returns the payload.
 */
export async function verifyAccessToken(
  entra: LocalEntra,
  token: string,
  expected: TokenExpectation,
): Promise<JWTPayload> {
  const tenantId = expected.tenantId ?? expected.principal.tenantId;
  const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(await fetchJwks(entra)), {
    issuer: entra.issuer(tenantId),
    audience: expected.audience ?? "https://database.windows.net/",
    algorithms: ["RS256"],
    currentDate: new Date(entra.now()),
  });
  expect(protectedHeader.kid).toEqual(expect.any(String));
  expect(payload.ver).toBe("1.0");
  expect(payload.tid).toBe(tenantId);
  expect(payload.oid).toBe(expected.principal.objectId);
  expect(payload.exp).toBeGreaterThan(Math.floor(entra.now() / 1000));
  expect(payload.nbf).toBeLessThanOrEqual(Math.floor(entra.now() / 1000) + 1);
  expect(payload.uti).toEqual(expect.any(String));
  const principal = expected.principal;
  if (principal.kind === "user") {
    expect(payload.idtyp).toBe("user");
    expect(payload.upn).toBe(principal.upn);
    expect(payload.unique_name).toBe(principal.upn);
    expect(payload.name).toBe(principal.displayName);
    expect(payload.appid).toBe(AZURE_CLI_CLIENT_ID);
  } else {
    expect(payload.idtyp).toBe("app");
    expect(payload.appid).toBe(principal.clientId);
    expect(payload.sub).toBe(principal.objectId);
    expect(payload.upn).toBeUndefined();
    if (principal.kind === "managedIdentity") expect(payload.xms_mirid).toBe(principal.resourceId);
    else expect(payload.xms_mirid).toBeUndefined();
  }
  return payload;
}

/** Everything secret a test registered, to search for in logs, events and inspect output. */
export function expectNoSecrets(haystack: string, secrets: readonly string[]): void {
  for (const secret of secrets) {
    expect(secret.length).toBeGreaterThan(8);
    expect(haystack.includes(secret), "a secret leaked").toBe(false);
  }
}
