import { inspect } from "node:util";
import {
  createTokenSource,
  isTokenAcquisitionError,
  type TokenAcquisitionError,
  type TokenSource,
  type TokenSourceEvent,
} from "@entra-sql/core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type LocalEntra, type RegisteredApp, startLocalEntra } from "../../support/entra/index.js";

// An identity provider outage through the published @entra-sql/core (its built dist): a real
// ClientSecretCredential (@azure/identity, msal-node) against the local Entra ID with injected faults.
// The failure must read as "the identity provider is unreachable or failing right now" (kind
// "transient"), never as a refused credential, and never print "fix: undefined" or the secret.

const SQL = "https://database.windows.net/.default";

let entra: LocalEntra;
const sources: TokenSource[] = [];

beforeAll(async () => {
  entra = await startLocalEntra();
});

afterEach(async () => {
  for (const source of sources.splice(0)) source.close();
  await entra.faults.clear();
});

afterAll(async () => {
  await entra?.close();
});

function servicePrincipal(app: RegisteredApp, events: TokenSourceEvent[]): TokenSource {
  const source = createTokenSource({
    credential: {
      type: "service-principal",
      tenantId: entra.tenantId,
      clientId: app.clientId,
      clientSecret: app.clientSecret ?? "",
    },
    // No pipeline retries: each getToken is one request (the 5xx retries only make the test slower).
    identityOptions: { ...entra.credentialOptions(), retryOptions: { maxRetries: 0 } },
    onEvent: (event) => events.push(event),
  });
  sources.push(source);
  return source;
}

async function failure(source: TokenSource): Promise<TokenAcquisitionError> {
  const error = await source.getAccessToken(SQL).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isTokenAcquisitionError(error))
    throw new Error(`expected a TokenAcquisitionError, got ${inspect(error)}`);
  return error;
}

function expectReadableOutage(error: TokenAcquisitionError, secret: string): void {
  expect(error.failures.map((f) => [f.source, f.kind])).toEqual([["ClientSecretCredential", "transient"]]);
  expect(error.message).toContain("the identity provider is unreachable or failing right now");
  expect(error.message).toContain("The next request for a token tries again.");
  expect(error.message).not.toContain("(authentication)");
  const shown = `${error.message}\n${inspect(error, { depth: 9, showHidden: true })}\n${JSON.stringify(error)}`;
  expect(shown).not.toMatch(/fix: undefined/);
  expect(shown).not.toContain(secret);
}

describe("identity provider outage (ClientSecretCredential against the local Entra ID)", () => {
  it("a 503 from the token endpoint is reported as the provider failing, with msal's 60 s throttle in the fix", async () => {
    const app = entra.registerApp({ displayName: "outage-503", clientSecret: true });
    const events: TokenSourceEvent[] = [];
    const source = servicePrincipal(app, events);
    entra.faults.inject({ kind: "serverError", status: 503, endpoint: "token" });

    const error = await failure(source);
    expectReadableOutage(error, app.clientSecret ?? "");
    expect(error.failures[0]?.fix).toMatch(/^The identity provider failed this request \(HTTP 503\)/);
    expect(error.failures[0]?.fix).toMatch(/60 s after a 5xx/);
    expect(events.filter((e) => e.type === "source-failed")).toMatchObject([
      { source: "ClientSecretCredential", kind: "transient" },
    ]);

    // The provider is back, but msal-node replays the failure for 60 s without sending a request:
    // still an outage to the caller, and the local Entra ID sees nothing.
    await entra.faults.clear();
    const requests = entra.counters.forIdentity(app.clientId).requests;
    const replayed = await failure(source);
    expectReadableOutage(replayed, app.clientSecret ?? "");
    expect(entra.counters.forIdentity(app.clientId).requests).toBe(requests);
  });

  it("an identity provider refusing connections is reported as unreachable, with the network fix", async () => {
    const app = entra.registerApp({ displayName: "outage-refused", clientSecret: true });
    const events: TokenSourceEvent[] = [];
    const source = servicePrincipal(app, events);
    entra.faults.inject({ kind: "outage" });

    const error = await failure(source);
    expectReadableOutage(error, app.clientSecret ?? "");
    expect(error.failures[0]?.fix).toMatch(
      /could not be reached: check the network, proxy and the authorityHost/,
    );

    // Once it is back, a new token source gets a token (no exclusion, nothing poisoned).
    await entra.faults.clear();
    const recovered = servicePrincipal(app, events);
    await expect(recovered.getAccessToken(SQL)).resolves.toMatch(/^eyJ/);
  });
});
