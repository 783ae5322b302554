import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import { inspect } from "node:util";
import {
  createTokenSource,
  isTokenAcquisitionError,
  type TokenAcquisitionError,
  type TokenSource,
  type TokenSourceOptions,
} from "@entra-sql/core";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type LocalEntra, type RegisteredApp, startLocalEntra } from "../../support/entra/index.js";

// The two setup mistakes with a local (or any non-Microsoft) identity provider, through the published
// @entra-sql/core (its built dist) and a real ClientSecretCredential (@azure/identity, msal-node) against
// the local Entra ID: its CA not trusted, and `disableInstanceDiscovery` left out. msal reports both as
// the same `endpoints_resolution_error` with no cause (msal-common's AuthorityFactory drops the reason);
// core tells them apart by what the credential's requests saw, and names the fix for each. Neither is
// "transient": retrying does not help.
//
// Left out, disableInstanceDiscovery makes msal ask https://login.microsoftonline.com about the
// authority first. Tests send traffic to loopback only, so the credential goes through a local proxy
// (identityOptions.proxyOptions) that answers every CONNECT outside loopback with 502, as a network
// without a route to Microsoft does (online, Entra ID answers such a request with HTTP 400
// invalid_instance, and msal fails the same way: source-failure.test.ts covers that observation).

const SQL = "https://database.windows.net/.default";

let entra: LocalEntra;
let app: RegisteredApp;
let proxy: { server: Server; port: number; connects: string[] };
const sources: TokenSource[] = [];

/** An HTTP proxy on loopback: tunnels CONNECT to 127.0.0.1, answers anything else with 502. */
async function startProxy() {
  const connects: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((_request, response) => {
    response.writeHead(502).end();
  });
  server.on("connect", (request, client: Socket, head: Buffer) => {
    const target = request.url ?? "";
    connects.push(target);
    sockets.add(client);
    client.on("error", () => {});
    const [host, port] = target.split(":");
    if (host !== "127.0.0.1") {
      client.end("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    const upstream = connect(Number(port), "127.0.0.1", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on("error", () => client.destroy());
  });
  server.on("close", () => {
    for (const socket of sockets) socket.destroy();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("proxy: no port");
  return { server, port: address.port, connects };
}

beforeAll(async () => {
  // The proxy policy reads these once per process; a host's own proxy settings must not apply here.
  for (const name of ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"]) {
    vi.stubEnv(name, undefined);
  }
  entra = await startLocalEntra();
  app = entra.registerApp({ displayName: "setup-errors", clientSecret: true });
  proxy = await startProxy();
});

afterEach(() => {
  for (const source of sources.splice(0)) source.close();
});

afterAll(async () => {
  vi.unstubAllEnvs();
  proxy?.server.close();
  await entra?.close();
});

function servicePrincipal(identityOptions: TokenSourceOptions["identityOptions"]): TokenSource {
  const source = createTokenSource({
    credential: {
      type: "service-principal",
      tenantId: entra.tenantId,
      clientId: app.clientId,
      clientSecret: app.clientSecret ?? "",
    },
    // One request per getToken: the pipeline's retries of a failed request only make the test slower.
    identityOptions: { ...identityOptions, retryOptions: { maxRetries: 0 } },
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

/** The one failure, as msal reports it (no cause to tell the two apart), and nothing secret anywhere. */
function expectSetupFailure(error: TokenAcquisitionError): string {
  expect(error.failures).toHaveLength(1);
  const [only] = error.failures;
  expect(only).toMatchObject({
    source: "ClientSecretCredential",
    kind: "unavailable",
    message: expect.stringMatching(/^endpoints_resolution_error\b/),
  });
  // Not an outage: nothing says "unreachable" or "tries again".
  expect(error.message).not.toContain("unreachable or failing right now");
  expect(error.message).not.toContain("tries again");
  expect(error.message).toContain(`fix: ${only?.fix}`);
  const shown = [
    error.message,
    error.stack,
    inspect(error, { depth: 9, showHidden: true }),
    JSON.stringify(error),
  ];
  for (const text of shown) expect(text).not.toContain(app.clientSecret);
  return only?.fix ?? "";
}

describe("a local identity provider set up wrong (ClientSecretCredential through createTokenSource)", () => {
  it("its CA not trusted: names the TLS fix, not instance discovery", async () => {
    const source = servicePrincipal({ authorityHost: entra.authorityHost, disableInstanceDiscovery: true });
    const fix = expectSetupFailure(await failure(source));
    expect(fix).toMatch(
      /^The identity endpoint's TLS certificate is not trusted: pass identityOptions\.tlsOptions\.ca \(or NODE_EXTRA_CA_CERTS\)/,
    );
    expect(fix).toContain(`Node said for ${entra.authorityHost}: unable to verify the first certificate`);
    expect(fix).not.toContain("disableInstanceDiscovery");
  });

  it("disableInstanceDiscovery left out: names that fix, not the CA", async () => {
    const source = servicePrincipal({
      authorityHost: entra.authorityHost,
      tlsOptions: { ca: entra.caPem },
      proxyOptions: { host: "http://127.0.0.1", port: proxy.port },
    });
    proxy.connects.length = 0;
    const fix = expectSetupFailure(await failure(source));
    // msal went to Microsoft's discovery endpoint first (through the proxy, which refused it) ...
    expect(proxy.connects).toEqual(["login.microsoftonline.com:443"]);
    expect(fix).toMatch(
      new RegExp(
        `^Instance discovery failed for a non-public authority: set disableInstanceDiscovery: true \\(in identityOptions\\) when ${entra.authorityHost.replace(/[.:/]/g, "\\$&")} is not Microsoft Entra ID's own authority`,
      ),
    );
    expect(fix).toContain(
      "msal asked https://login.microsoftonline.com whether it is a known Entra ID instance",
    );
    expect(fix).not.toContain("tlsOptions");
  });

  it("both wrong: msal stops at instance discovery, so that fix comes first", async () => {
    const source = servicePrincipal({
      authorityHost: entra.authorityHost,
      proxyOptions: { host: "http://127.0.0.1", port: proxy.port },
    });
    expect(expectSetupFailure(await failure(source))).toMatch(
      /^Instance discovery failed for a non-public authority/,
    );
  });

  it("the same credential set up right gets a token (the failures above are the setup's)", async () => {
    const source = servicePrincipal(entra.credentialOptions());
    const token = await source.getAccessToken(SQL);
    expect(token.split(".")).toHaveLength(3);
  });

  it("the identity provider down is still an outage (transient), with the network fix", async () => {
    const down = await startLocalEntra();
    const authorityHost = down.authorityHost;
    const ca = down.caPem;
    await down.close();
    const source = servicePrincipal({ authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca } });
    const error = await failure(source);
    expect(error.failures.map((f) => f.kind)).toEqual(["transient"]);
    expect(error.failures[0]?.fix).toMatch(
      /could not be reached: check the network, proxy and the authorityHost/,
    );
    expect(error.message).toContain("the identity provider is unreachable or failing right now");
  });
});
