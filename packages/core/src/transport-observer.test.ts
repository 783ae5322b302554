import { ClientSecretCredential } from "@azure/identity";
import { describe, expect, it } from "vitest";
import { buildCredentialSources } from "./credential-presets.js";
import { TransportObserver, withObserver } from "./transport-observer.js";

// The observer policy on its own (fake requests), and that every credential core builds carries one.
// A real ClientSecretCredential's requests through it: test/integration/core/idp-setup-errors.test.ts.

type SendRequest = TransportObserver["policy"]["policy"]["sendRequest"];
const request = (url: string, method = "GET") => ({ url, method }) as unknown as Parameters<SendRequest>[0];
const answering = (status: number) => (async () => ({ status })) as unknown as Parameters<SendRequest>[1];
const failing = (error: unknown) =>
  (async () => {
    throw error;
  }) as unknown as Parameters<SendRequest>[1];
const send = (observer: TransportObserver, url: string, next: Parameters<SendRequest>[1], method?: string) =>
  observer.policy.policy.sendRequest(request(url, method), next);

const DISCOVERY =
  "https://login.microsoftonline.com/common/discovery/instance?api-version=1.1&authorization_endpoint=https://127.0.0.1:41234/tenant-id/oauth2/v2.0/authorize";

describe("TransportObserver", () => {
  it("keeps failed requests: endpoint, origin, Node's code and message; never the path's query", async () => {
    const observer = new TransportObserver();
    const tls = Object.assign(new Error("unable to verify the first certificate"), {
      code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    });
    await expect(
      send(observer, "https://127.0.0.1:41234/tenant-id/v2.0/.well-known/openid-configuration", failing(tls)),
    ).rejects.toBe(tls);
    await send(observer, DISCOVERY, answering(400));
    await send(observer, "https://127.0.0.1:41234/tenant-id/oauth2/v2.0/token", answering(401), "POST");
    expect(observer.failures()).toEqual([
      {
        method: "GET",
        origin: "https://127.0.0.1:41234",
        endpoint: "openid-configuration",
        code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
        message: "unable to verify the first certificate",
      },
      {
        method: "GET",
        origin: "https://login.microsoftonline.com",
        endpoint: "instance-discovery",
        authority: "https://127.0.0.1:41234",
        status: 400,
      },
      { method: "POST", origin: "https://127.0.0.1:41234", endpoint: "token", status: 401 },
    ]);
    expect(JSON.stringify(observer.failures())).not.toContain("tenant-id");
  });

  it("ignores successful requests, forgets on reset, and keeps at most 8", async () => {
    const observer = new TransportObserver();
    await send(observer, "https://127.0.0.1:1/t/v2.0/.well-known/openid-configuration", answering(200));
    expect(observer.failures()).toEqual([]);
    for (let i = 0; i < 10; i++) await send(observer, "https://127.0.0.1:1/x", answering(503));
    expect(observer.failures()).toHaveLength(8);
    observer.reset();
    expect(observer.failures()).toEqual([]);
  });

  it("withObserver adds the policy after the caller's own, without changing the caller's options", () => {
    const observer = new TransportObserver();
    const mine = { policy: { name: "mine", sendRequest: answering(200) }, position: "perRetry" as const };
    const given = { authorityHost: "https://127.0.0.1:1", additionalPolicies: [mine] };
    const options = withObserver(given, observer);
    expect(options.additionalPolicies).toEqual([mine, observer.policy]);
    expect(given.additionalPolicies).toEqual([mine]);
    expect(options.authorityHost).toBe("https://127.0.0.1:1");
  });
});

describe("credential sources carry their own observer", () => {
  it("every preset-built source has one (the default chain's too), a credential you pass has none", () => {
    const yours = new ClientSecretCredential("tenant", "00000000-0000-0000-0000-000000000000", "s");
    const sources = buildCredentialSources([
      "cli",
      {
        type: "service-principal",
        tenantId: "t",
        clientId: "00000000-0000-0000-0000-000000000001",
        clientSecret: "s",
      },
      yours,
    ]);
    expect(sources.map((s) => s.transport instanceof TransportObserver)).toEqual([true, true, false]);
    const chain = buildCredentialSources("default");
    const observers = new Set(chain.map((s) => s.transport));
    expect(observers.size).toBe(chain.length);
    expect([...observers].every((o) => o instanceof TransportObserver)).toBe(true);
  });
});
