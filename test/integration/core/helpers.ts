import { inspect } from "node:util";
import type { CredentialSpec, TokenSourceEvent } from "@entra-sql/core";
import type { IdentityOptions } from "@entra-sql/core/internal";
import { type CredentialChain, createCredentialChain } from "@entra-sql/core/internal";
import { decodeJwt, type JWTPayload } from "jose";
import { afterAll, afterEach, beforeEach, expect, vi } from "vitest";
import type { RegisteredPrincipal } from "../../support/entra/index.js";

// Shared by the credential-chain integration files (each its own process: msal-node keeps
// managed-identity state process-wide).

/** Every variable a credential of the default chain reads. Cleared (stubbed) so the host's own don't leak in. */
const AZURE_ENV = [
  "AZURE_TOKEN_CREDENTIALS",
  "AZURE_TENANT_ID",
  "AZURE_CLIENT_ID",
  "AZURE_CLIENT_SECRET",
  "AZURE_CLIENT_CERTIFICATE_PATH",
  "AZURE_CLIENT_CERTIFICATE_PASSWORD",
  "AZURE_USERNAME",
  "AZURE_PASSWORD",
  "AZURE_FEDERATED_TOKEN_FILE",
  "AZURE_AUTHORITY_HOST",
  "AZURE_ADDITIONALLY_ALLOWED_TENANTS",
  "IDENTITY_ENDPOINT",
  "IDENTITY_HEADER",
  "MSI_ENDPOINT",
  "MSI_SECRET",
  "IMDS_ENDPOINT",
  "IDENTITY_SERVER_THUMBPRINT",
  "AZURE_POD_IDENTITY_AUTHORITY_HOST",
];

/**
 * Stubs every Azure identity variable away, then sets `values` (restored by vi.unstubAllEnvs).
 * Unless `values` names a managed-identity endpoint, IMDS is pointed at `noIdentityImdsHost` (the
 * local Entra ID's IMDS with no identity assigned to this "machine" answers 400 at once, as IMDS on
 * a VM without an identity does). Never left unset: a ManagedIdentityCredential would otherwise
 * probe the real IMDS address, and tests send traffic to loopback only.
 */
export function stubAzureEnv(values: Record<string, string>, noIdentityImdsHost?: string): void {
  for (const name of AZURE_ENV) vi.stubEnv(name, undefined);
  if (!("IDENTITY_ENDPOINT" in values) && !("AZURE_POD_IDENTITY_AUTHORITY_HOST" in values)) {
    if (!noIdentityImdsHost) throw new Error("stubAzureEnv: pass the local IMDS host (entra.imdsHost)");
    vi.stubEnv("AZURE_POD_IDENTITY_AUTHORITY_HOST", noIdentityImdsHost);
  }
  for (const [name, value] of Object.entries(values)) vi.stubEnv(name, value);
}

// Leak watch, per test: everything the chains a test creates emit or throw is kept as text, with every
// token they returned and every secret they were given. Each test starts with an empty watch
// (beforeEach) and its own watch is checked when it ends (afterEach): none of the test's tokens, their
// JWT segments or its secrets may appear in the test's text. So a leak fails the test that caused it,
// and one test's leftovers neither fail nor mask another's. A chain feeds the watch of the test that
// created it, even when it emits after that test ended; chains created outside a test (in a hook) feed
// a watch checked after the file's last test. expectNothingLeaked() (the last test of each file) checks
// its own test's watch and that the per-test checks ran on something.
interface LeakWatch {
  texts: string[];
  tokens: Set<string>;
  secrets: Set<string>;
}

const newWatch = (): LeakWatch => ({ texts: [], tokens: new Set(), secrets: new Set() });
const outsideTests = newWatch();
let currentTest: LeakWatch | undefined;
/** How many tests' watches held text when checked: what expectNothingLeaked() relies on. */
let testsChecked = 0;

beforeEach(() => {
  currentTest = newWatch();
});

afterEach(() => {
  const watch = currentTest;
  currentTest = undefined;
  if (watch && watch.texts.length > 0) {
    expectNoLeakIn(watch);
    testsChecked += 1;
  }
});

afterAll(() => {
  expectNoLeakIn(outsideTests);
});

function expectNoLeakIn(watch: LeakWatch): void {
  const haystack = watch.texts.join("\n");
  for (const token of watch.tokens) {
    expect(haystack, "a token leaked").not.toContain(token);
    for (const segment of token.split(".")) expect(haystack, "a JWT segment leaked").not.toContain(segment);
  }
  for (const secret of watch.secrets) expect(haystack, "a secret leaked").not.toContain(secret);
}

function watchText(watch: LeakWatch, value: unknown): void {
  watch.texts.push(
    inspect(value, { depth: 9, showHidden: true }),
    JSON.stringify(value) ?? "",
    String(value),
  );
  if (value instanceof Error && value.stack) watch.texts.push(value.stack);
}

function watchSecretsOf(watch: LeakWatch, spec: CredentialSpec): void {
  for (const item of Array.isArray(spec) ? spec : [spec]) {
    const secret = (item as { clientSecret?: unknown }).clientSecret;
    if (typeof secret === "string" && secret !== "") watch.secrets.add(secret);
  }
  const fromEnv = process.env.AZURE_CLIENT_SECRET;
  if (fromEnv) watch.secrets.add(fromEnv);
}

/** A chain that records its events (and feeds the leak watch with its events, tokens and errors). */
export function recordingChain(
  spec: CredentialSpec,
  identityOptions?: IdentityOptions,
): { chain: CredentialChain; events: TokenSourceEvent[] } {
  const watch = currentTest ?? outsideTests;
  watchSecretsOf(watch, spec);
  const events: TokenSourceEvent[] = [];
  const inner = createCredentialChain(spec, {
    ...(identityOptions ? { identityOptions } : {}),
    emit: (event) => {
      events.push(event);
      watchText(watch, event);
    },
  });
  const chain: CredentialChain = {
    get activeSource() {
      return inner.activeSource;
    },
    async getToken(scope, options) {
      try {
        const result = await inner.getToken(scope, options);
        watch.tokens.add(result.token.token);
        return result;
      } catch (error) {
        watchText(watch, error);
        throw error;
      }
    },
  };
  return { chain, events };
}

/**
 * Asserts that no token, JWT segment or secret of this test's chains appears in their events or errors,
 * and that the file's earlier tests had chains whose watches were checked (each at its own end).
 */
export function expectNothingLeaked(): void {
  if (currentTest) expectNoLeakIn(currentTest);
  expect(
    testsChecked + (currentTest?.texts.length ? 1 : 0),
    "tests whose chains were checked",
  ).toBeGreaterThan(0);
}

/** Decodes the token and checks the claims that say whose token it is (Entra v1, Azure SQL audience). */
export function expectTokenOf(token: string, principal: RegisteredPrincipal): JWTPayload {
  const claims = decodeJwt(token);
  expect(claims.aud).toBe("https://database.windows.net/");
  expect(claims.tid).toBe(principal.tenantId);
  expect(claims.oid).toBe(principal.objectId);
  expect(claims.exp).toBeGreaterThan(Date.now() / 1000 + 600);
  if (principal.kind === "user") {
    expect(claims).toMatchObject({ idtyp: "user", upn: principal.upn });
  } else {
    expect(claims).toMatchObject({ idtyp: "app", appid: principal.clientId });
  }
  if (principal.kind === "managedIdentity") expect(claims.xms_mirid).toBe(principal.resourceId);
  return claims;
}

/** The events as short strings, for order assertions. */
export function eventLines(events: readonly TokenSourceEvent[]): string[] {
  return events.map((e) =>
    e.type === "source-failed"
      ? `failed ${e.source} ${e.kind}`
      : e.type === "source-selected"
        ? `selected ${e.source}`
        : e.type,
  );
}
