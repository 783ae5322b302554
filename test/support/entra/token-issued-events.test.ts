import {
  ClientCertificateCredential,
  ClientSecretCredential,
  WorkloadIdentityCredential,
} from "@azure/identity";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CertificateAuthority, createCertificateAuthority } from "../pki/certificate-authority.js";
import type { LocalEntraEvent } from "./events.js";
import { type LocalEntra, SQL_SCOPE, startLocalEntra } from "./local-entra.js";

// The `tokenIssued` event says how a confidential client proved itself at the token endpoint, so a
// report (the soak's "tokens minted per source") can count tokens per kind of credential from the IdP's
// records rather than from what the apps say.

const SUBJECT = "system:serviceaccount:orders:orders-api";
let ca: CertificateAuthority;
let entra: LocalEntra;
const events: LocalEntraEvent[] = [];

beforeAll(async () => {
  ca = await createCertificateAuthority();
  entra = await startLocalEntra({ ca, onEvent: (event) => events.push(event) });
});

afterAll(async () => {
  await entra?.close();
});

const clientAuthOf = (clientId: string) =>
  events.flatMap((event) =>
    event.type === "tokenIssued" && event.clientId === clientId ? [event.clientAuth] : [],
  );

describe("tokenIssued events", () => {
  it("name the client's proof: a secret, a certificate or a federated assertion", async () => {
    const withSecret = entra.registerApp({ displayName: "by-secret", clientSecret: true });
    const certificate = await ca.issue({ commonName: "by-certificate client", usage: "client" });
    const withCertificate = entra.registerApp({ displayName: "by-certificate", certificate });
    const federated = entra.registerApp({
      displayName: "by-workload-identity",
      federatedCredentials: [{ issuer: entra.federatedIssuer, subject: SUBJECT }],
    });
    const options = entra.credentialOptions();
    await new ClientSecretCredential(
      entra.tenantId,
      withSecret.clientId,
      withSecret.clientSecret ?? "",
      options,
    ).getToken(SQL_SCOPE);
    await new ClientCertificateCredential(
      entra.tenantId,
      withCertificate.clientId,
      { certificate: certificate.bundlePem },
      options,
    ).getToken(SQL_SCOPE);
    await new WorkloadIdentityCredential({
      tenantId: entra.tenantId,
      clientId: federated.clientId,
      tokenFilePath: await entra.writeFederatedTokenFile(entra.mintFederatedAssertion({ subject: SUBJECT })),
      ...options,
    }).getToken(SQL_SCOPE);

    expect(clientAuthOf(withSecret.clientId)).toEqual(["secret"]);
    expect(clientAuthOf(withCertificate.clientId)).toEqual(["certificate"]);
    expect(clientAuthOf(federated.clientId)).toEqual(["federated"]);
  });
});
