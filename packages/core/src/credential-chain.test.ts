import { inspect } from "node:util";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import {
  AggregateAuthenticationError,
  AuthenticationError,
  AuthenticationRequiredError,
  CredentialUnavailableError,
} from "@azure/identity";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createCredentialChain, DEFAULT_EXCLUSION_IN_MS } from "./credential-chain.js";
import type { CredentialSource } from "./credential-spec.js";
import { isInvalidOptionError, isTokenAcquisitionError, type TokenAcquisitionError } from "./errors.js";
import type { TokenSourceEvent } from "./events.js";

// The chain over hand-written fakes that count their calls and throw the real @azure/identity
// error classes, in the order a script tells them. The "developer-cli" preset builds a fake that
// caches per instance, as msal-node-backed credentials do.

const cachingFakes = vi.hoisted(() => ({ instances: 0, minted: 0 }));
vi.mock("@azure/identity", async (importOriginal) => {
  const actual = await importOriginal<typeof import("@azure/identity")>();
  class AzureDeveloperCliCredential {
    #cached: AccessToken | undefined;
    constructor() {
      cachingFakes.instances += 1;
    }
    async getToken(): Promise<AccessToken> {
      cachingFakes.minted += this.#cached === undefined ? 1 : 0;
      this.#cached ??= {
        token: `cached-token-${cachingFakes.minted}`,
        expiresOnTimestamp: Date.now() + 3600_000,
      };
      return this.#cached;
    }
  }
  return { ...actual, AzureDeveloperCliCredential };
});

const SCOPE = "https://database.windows.net/.default";
// A token-shaped string and an Entra-shaped client secret that must never surface.
const FAKE_JWT =
  "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2RhdGFiYXNlIn0.c2lnbmF0dXJlLXNlY3JldA";
const FAKE_SECRET = "Xy78Q~abcdefghijklmnopqrstuvwxyz0123456";

type Outcome = "token" | "null" | Error;

interface Fake extends TokenCredential {
  calls: number;
  readonly name: string;
}

/** A credential of class `name` that plays `outcomes` in order, then repeats the last one. */
function fake(name: string, ...outcomes: Outcome[]): Fake {
  const Class = {
    [name]: class {
      calls = 0;
      readonly name = name;
      async getToken(): Promise<AccessToken | null> {
        const outcome = outcomes[Math.min(this.calls, outcomes.length - 1)] ?? "token";
        this.calls += 1;
        if (outcome === "null") return null;
        if (outcome instanceof Error) throw outcome;
        return {
          token: `token-from-${name}`,
          expiresOnTimestamp: Date.now() + 3600_000,
          tokenType: "Bearer",
        };
      }
    },
  }[name];
  if (!Class) throw new Error("unreachable");
  return new Class();
}

const unavailable = (message = "not configured here") => new CredentialUnavailableError(message);
const refused = (code = "AADSTS7000215: Invalid client secret provided.") =>
  new AuthenticationError(401, { error: "invalid_client", error_description: code });

function chain(sources: CredentialSource[], exclusionInMs?: number) {
  const events: TokenSourceEvent[] = [];
  const credentialChain = createCredentialChain(sources, {
    emit: (event) => events.push(event),
    ...(exclusionInMs !== undefined ? { exclusionInMs } : {}),
  });
  return { chain: credentialChain, events };
}

const brief = (events: TokenSourceEvent[]) =>
  events.map((e) =>
    e.type === "source-failed"
      ? `failed ${e.source} ${e.kind}`
      : e.type === "source-selected"
        ? `selected ${e.source} (was ${e.previousSource ?? "-"})`
        : e.type,
  );

afterEach(() => {
  vi.useRealTimers();
});

describe("createCredentialChain: walking", () => {
  it("tries sources in order, skips unavailable ones, and reports the winner", async () => {
    const a = fake("FirstCredential", unavailable());
    const b = fake("SecondCredential", "null");
    const c = fake("ThirdCredential");
    const d = fake("FourthCredential");
    const { chain: ch, events } = chain([a, b, c, d]);
    expect(ch.activeSource).toBeUndefined();
    const result = await ch.getToken(SCOPE);
    expect(result).toMatchObject({
      source: "ThirdCredential",
      token: { token: "token-from-ThirdCredential" },
    });
    expect([a.calls, b.calls, c.calls, d.calls]).toEqual([1, 1, 1, 0]);
    expect(ch.activeSource).toBe("ThirdCredential");
    expect(brief(events)).toEqual([
      "failed FirstCredential unavailable",
      "failed SecondCredential unavailable",
      "selected ThirdCredential (was -)",
    ]);
  });

  it("sticks to the winner: the next call calls only the winner, and emits nothing", async () => {
    const a = fake("FirstCredential", unavailable());
    const b = fake("SecondCredential");
    const { chain: ch, events } = chain([a, b]);
    await ch.getToken(SCOPE);
    events.length = 0;
    for (let i = 0; i < 3; i++) expect((await ch.getToken(SCOPE)).source).toBe("SecondCredential");
    expect([a.calls, b.calls]).toEqual([1, 4]);
    expect(events).toEqual([]);
  });

  it("the Django retry: an authentication failure goes on to the next source, and is skipped next time", async () => {
    const env = fake("EnvironmentCredential", refused());
    const cli = fake("AzureCliCredential", "token", unavailable("Please run 'az login'"));
    const azd = fake("AzureDeveloperCliCredential");
    const { chain: ch, events } = chain([env, cli, azd]);
    expect((await ch.getToken(SCOPE)).source).toBe("AzureCliCredential");
    expect(brief(events)).toEqual([
      "failed EnvironmentCredential authentication",
      "selected AzureCliCredential (was -)",
    ]);
    events.length = 0;
    // The winner fails: walk again, without the source that was refused.
    expect((await ch.getToken(SCOPE)).source).toBe("AzureDeveloperCliCredential");
    expect([env.calls, cli.calls, azd.calls]).toEqual([1, 2, 1]);
    expect(brief(events)).toEqual([
      "failed AzureCliCredential unavailable",
      "selected AzureDeveloperCliCredential (was AzureCliCredential)",
    ]);
  });

  it("AuthenticationRequiredError and any other error count as authentication failures too", async () => {
    const a = fake("A", new AuthenticationRequiredError({ scopes: [SCOPE], message: "AADSTS50173 expired" }));
    const b = fake("B", new TypeError("boom"));
    const c = fake("C");
    const { chain: ch, events } = chain([a, b, c]);
    await ch.getToken(SCOPE);
    expect(brief(events).slice(0, 2)).toEqual(["failed A authentication", "failed B authentication"]);
  });

  it("a CredentialUnavailableError carrying an Entra refusal (az: disabled user) is an authentication failure", async () => {
    const a = fake("AzureCliCredential", unavailable("ERROR: AADSTS50057: The user account is disabled."));
    const b = fake("B");
    const { chain: ch, events } = chain([a, b]);
    await ch.getToken(SCOPE);
    expect(brief(events)[0]).toBe("failed AzureCliCredential authentication");
  });

  it("an AggregateAuthenticationError of unavailable errors (a nested chain) is unavailable", async () => {
    const nested = fake(
      "ChainedTokenCredential",
      new AggregateAuthenticationError(
        [unavailable(), unavailable()],
        "ChainedTokenCredential authentication failed.",
      ),
    );
    const mixed = fake("MixedChain", new AggregateAuthenticationError([unavailable(), refused()], "failed"));
    const { chain: ch, events } = chain([nested, mixed, fake("C")]);
    await ch.getToken(SCOPE);
    expect(brief(events).slice(0, 2)).toEqual([
      "failed ChainedTokenCredential unavailable",
      "failed MixedChain authentication",
    ]);
  });
});

describe("createCredentialChain: exclusion of refused sources", () => {
  it("an excluded source is still tried as the last resort when nothing else works", async () => {
    const sp = fake("ClientSecretCredential", refused(), "token");
    const cli = fake("AzureCliCredential", "token", unavailable("Please run 'az login'"));
    const { chain: ch, events } = chain([sp, cli]);
    expect((await ch.getToken(SCOPE)).source).toBe("AzureCliCredential");
    events.length = 0;
    expect((await ch.getToken(SCOPE)).source).toBe("ClientSecretCredential");
    expect([sp.calls, cli.calls]).toEqual([2, 2]);
    expect(brief(events)).toEqual([
      "failed AzureCliCredential unavailable",
      "selected ClientSecretCredential (was AzureCliCredential)",
    ]);
  });

  it("the exclusion ends after exclusionInMs (default 5 minutes): the source is back in its place", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    expect(DEFAULT_EXCLUSION_IN_MS).toBe(300_000);
    const first = fake("First", refused(), "token");
    const second = fake("Second", "token", unavailable(), "token");
    const third = fake("Third");
    const { chain: ch } = chain([first, second, third]);
    expect((await ch.getToken(SCOPE)).source).toBe("Second");
    vi.advanceTimersByTime(DEFAULT_EXCLUSION_IN_MS + 1);
    // The winner fails; First's exclusion is over, so the walk tries it first again.
    expect((await ch.getToken(SCOPE)).source).toBe("First");
    expect([first.calls, second.calls, third.calls]).toEqual([2, 2, 0]);
  });

  it("within the exclusion the walk skips the refused source", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const first = fake("First", refused(), "token");
    const second = fake("Second", "token", unavailable());
    const third = fake("Third");
    const { chain: ch } = chain([first, second, third], 60_000);
    await ch.getToken(SCOPE);
    vi.advanceTimersByTime(59_000);
    expect((await ch.getToken(SCOPE)).source).toBe("Third");
    expect(first.calls).toBe(1);
  });

  it("a winner refused later is excluded too, and the walk moves on; each source is tried once per call", async () => {
    const a = fake("A", "token", refused("AADSTS7000222: The provided client secret keys are expired."));
    const b = fake("B");
    const { chain: ch, events } = chain([a, b]);
    expect((await ch.getToken(SCOPE)).source).toBe("A");
    events.length = 0;
    expect((await ch.getToken(SCOPE)).source).toBe("B");
    expect([a.calls, b.calls]).toEqual([2, 1]);
    expect(brief(events)).toEqual(["failed A authentication", "selected B (was A)"]);
  });
});

describe("createCredentialChain: when every source fails", () => {
  it("throws TokenAcquisitionError listing every source with kind, message and fix", async () => {
    const sources = [
      fake("EnvironmentCredential", unavailable("EnvironmentCredential is unavailable.")),
      fake(
        "ManagedIdentityCredential",
        unavailable("Attempted to use the IMDS endpoint, but it is not available."),
      ),
      fake("AzureCliCredential", unavailable("Please run 'az login' from a command prompt")),
      fake("ClientSecretCredential", refused()),
    ];
    const { chain: ch, events } = chain(sources);
    const error = (await ch.getToken(SCOPE).catch((e: unknown) => e)) as TokenAcquisitionError;
    expect(isTokenAcquisitionError(error)).toBe(true);
    expect(error.scope).toBe(SCOPE);
    // Each source-failed event carries the same fix, for tools that watch a chain that then succeeds.
    const failedEvents = events.flatMap((e) => (e.type === "source-failed" ? [e] : []));
    expect(failedEvents.map((e) => e.fix)).toEqual(error.failures.map((f) => f.fix));
    expect(error.failures.map((f) => [f.source, f.kind])).toEqual([
      ["EnvironmentCredential", "unavailable"],
      ["ManagedIdentityCredential", "unavailable"],
      ["AzureCliCredential", "unavailable"],
      ["ClientSecretCredential", "authentication"],
    ]);
    for (const failure of error.failures) expect(failure.fix).toEqual(expect.any(String));
    expect(error.failures[0]?.fix).toMatch(/AZURE_CLIENT_SECRET/);
    expect(error.failures[1]?.fix).toMatch(/AZURE_CLIENT_ID/);
    expect(error.failures[2]?.fix).toMatch(/az login/);
    expect(error.failures[3]?.fix).toMatch(/client secret is wrong or expired/);
    expect(error.message).toMatch(/ClientSecretCredential \(authentication\): .*AADSTS7000215/);
    expect(error.message).toMatch(/fix: Run `az login`/);
    expect(error.cause).toBeInstanceOf(AggregateError);
    expect((error.cause as AggregateError).errors).toHaveLength(4);
    expect(ch.activeSource).toBeUndefined();
  });

  it("with one source the cause is its own error", async () => {
    const error = new CredentialUnavailableError("nope");
    const { chain: ch } = chain([fake("Only", error)]);
    const thrown = (await ch.getToken(SCOPE).catch((e: unknown) => e)) as TokenAcquisitionError;
    expect(thrown.cause).toBe(error);
  });

  it("a winner that fails along with every other source clears activeSource; a later success selects again", async () => {
    const a = fake("A", "token", unavailable(), "token");
    const { chain: ch, events } = chain([a]);
    await ch.getToken(SCOPE);
    await expect(ch.getToken(SCOPE)).rejects.toThrow(/could not get a token/);
    expect(ch.activeSource).toBeUndefined();
    await ch.getToken(SCOPE);
    expect(ch.activeSource).toBe("A");
    expect(brief(events)).toEqual(["selected A (was -)", "failed A unavailable", "selected A (was A)"]);
  });

  it("never shows a token or a secret: not in the error, its failures, util.inspect of it, or events", async () => {
    const leaky = [
      fake(
        "AzureCliCredential",
        unavailable(`Unexpected token 'x', "${FAKE_JWT.slice(0, 30)}"... is not valid JSON`),
      ),
      fake(
        "ClientSecretCredential",
        refused(`AADSTS7000215: Invalid client secret provided: ${FAKE_SECRET}`),
      ),
      fake("Custom", new Error(`request failed: client_secret=${FAKE_SECRET}&access_token=${FAKE_JWT}`)),
      fake("Bearer", new Error(`Authorization: Bearer ${FAKE_JWT}`)),
    ];
    const { chain: ch, events } = chain(leaky);
    const error = (await ch.getToken(SCOPE).catch((e: unknown) => e)) as TokenAcquisitionError;
    const haystacks = [
      error.message,
      JSON.stringify(error.failures),
      inspect(error, { depth: 10 }),
      JSON.stringify(events),
      String(error.stack),
    ];
    for (const text of haystacks) {
      expect(text).not.toContain(FAKE_SECRET);
      expect(text).not.toContain(FAKE_JWT.slice(0, 20));
    }
    expect(error.failures[1]?.message).toContain("[redacted]");
    expect(error.failures[1]?.message).toMatch(/AADSTS7000215/);
    // The scrubbed causes keep their class, name and the redacted message.
    const causes = (error.cause as AggregateError).errors;
    expect(causes[1]).toBeInstanceOf(AuthenticationError);
    expect((causes[1] as Error).name).toBe("AuthenticationError");
  });

  it("keeps the original error object as the cause when nothing in it is secret", async () => {
    const original = refused();
    const { chain: ch } = chain([fake("A", original), fake("B", unavailable())]);
    const error = (await ch.getToken(SCOPE).catch((e: unknown) => e)) as TokenAcquisitionError;
    expect((error.cause as AggregateError).errors[0]).toBe(original);
  });
});

describe("createCredentialChain: abort, names, validation", () => {
  it("an aborted call stops at once and records nothing", async () => {
    const controller = new AbortController();
    const slow: TokenCredential & { calls: number } = {
      calls: 0,
      async getToken(_scopes, options) {
        this.calls += 1;
        controller.abort(new Error("caller gave up"));
        if (options?.abortSignal !== controller.signal) throw new Error("the signal was not passed on");
        throw controller.signal.reason;
      },
    };
    const next = fake("Next");
    const { chain: ch, events } = chain([slow, next]);
    await expect(ch.getToken(SCOPE, { abortSignal: controller.signal })).rejects.toThrow("caller gave up");
    expect(next.calls).toBe(0);
    expect(events).toEqual([]);
    await expect(ch.getToken(SCOPE, { abortSignal: controller.signal })).rejects.toThrow("caller gave up");
    expect(slow.calls).toBe(1);
  });

  it("names: class name, custom[i] for anonymous credentials, list index for repeats", async () => {
    const anonymous: TokenCredential = { getToken: async () => null };
    const { chain: ch } = chain([fake("Mine", unavailable()), anonymous, fake("Mine", unavailable())]);
    const error = (await ch.getToken(SCOPE).catch((e: unknown) => e)) as TokenAcquisitionError;
    expect(error.failures.map((f) => f.source)).toEqual(["Mine", "custom[1]", "Mine[2]"]);
  });

  it("util.inspect and JSON.stringify of a chain show no secret (its sources are private)", () => {
    const { chain: ch } = chain([
      {
        type: "service-principal",
        tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
        clientId: "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
        clientSecret: FAKE_SECRET,
      },
    ]);
    expect(inspect(ch, { depth: 10, showHidden: true })).not.toContain(FAKE_SECRET);
    expect(JSON.stringify(ch)).not.toContain(FAKE_SECRET);
  });

  it("validates the spec when created", () => {
    expect(() => createCredentialChain([], { emit: () => {} })).toThrow(/"credential" is an empty list/);
    const error = (() => {
      try {
        createCredentialChain(["cli", { type: "managed-identity", clientID: "x" } as never], {
          emit: () => {},
        });
      } catch (e) {
        return e;
      }
    })();
    expect(isInvalidOptionError(error)).toBe(true);
    expect((error as Error).message).toMatch(/credential\[1\]\.clientID/);
  });

  it("rebuilds a preset source once when its own cache answers with a dropped token", async () => {
    cachingFakes.instances = 0;
    cachingFakes.minted = 0;
    const { chain: ch } = chain(["developer-cli"]);
    const first = await ch.getToken(SCOPE);
    expect((await ch.getToken(SCOPE)).token.token).toBe(first.token.token); // its cache answers
    const dropped = new Set([first.token.token]);
    const isDropped = (token: string) => dropped.has(token);
    const fresh = await ch.getToken(SCOPE, { isDropped });
    expect(fresh.token.token).not.toBe(first.token.token);
    expect(cachingFakes.minted).toBe(2);
    await ch.getToken(SCOPE, { isDropped }); // the new instance's token is not dropped: no rebuild
    expect(cachingFakes.instances).toBe(2); // built, then rebuilt once
  });

  it("asks a user-given credential as is: it cannot be rebuilt", async () => {
    const given = fake("MyCredential", "token");
    const { chain: ch } = chain([given]);
    const first = await ch.getToken(SCOPE);
    const again = await ch.getToken(SCOPE, { isDropped: () => true });
    expect(again.token.token).toBe(first.token.token);
    expect(given.calls).toBe(2);
  });
});
