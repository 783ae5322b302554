import type { TokenSourceOptions } from "@entra-sql/core";
import type { RegisteredApp } from "../support/entra/index.js";
import type { StandIns } from "../support/stand-ins.js";

// The identity an app logs in as: one service principal per app (so the server's records tell the apps
// apart), proved by the kind of credential production uses: a client secret, a certificate, or a
// workload identity's federated token file (AKS). The soak spreads the kinds over its apps, so the IdP's
// records count tokens per source and each kind meets the faults.

export const CREDENTIAL_KINDS = ["secret", "certificate", "workload-identity"] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

export type DemoIdentity =
  | { kind: "secret"; clientId: string; clientSecret: string }
  | { kind: "certificate"; clientId: string; certificatePem: string }
  | { kind: "workload-identity"; clientId: string; tokenFilePath: string };

/** The Kubernetes service account a workload-identity app runs as. */
const serviceAccount = (displayName: string) => `system:serviceaccount:soak:${displayName}`;

/**
 * Registers `displayName` at the local Entra ID with a credential of `kind`. A federated token file is
 * written valid for `validForSeconds` (the credential reads it again every few minutes, as on AKS).
 */
export async function registerDemoApp(
  standIns: StandIns,
  displayName: string,
  kind: CredentialKind = "secret",
  validForSeconds = 3_600,
): Promise<{ registered: RegisteredApp; identity: DemoIdentity }> {
  const { entra, ca } = standIns;
  switch (kind) {
    case "secret": {
      const registered = entra.registerApp({ displayName, clientSecret: true });
      const clientSecret = registered.clientSecret ?? "";
      return { registered, identity: { kind, clientId: registered.clientId, clientSecret } };
    }
    case "certificate": {
      const certificate = await ca.issue({ commonName: `${displayName} client`, usage: "client" });
      const registered = entra.registerApp({ displayName, certificate });
      return {
        registered,
        identity: { kind, clientId: registered.clientId, certificatePem: certificate.bundlePem },
      };
    }
    case "workload-identity": {
      const subject = serviceAccount(displayName);
      const registered = entra.registerApp({
        displayName,
        federatedCredentials: [{ issuer: entra.federatedIssuer, subject }],
      });
      const tokenFilePath = await entra.writeFederatedTokenFile({
        subject,
        lifetimeSeconds: validForSeconds,
      });
      return { registered, identity: { kind, clientId: registered.clientId, tokenFilePath } };
    }
  }
}

/** Token source options for an app's identity at the local Entra ID. */
export function demoTokenSource(standIns: StandIns, identity: DemoIdentity): TokenSourceOptions {
  const { tenantId } = standIns.entra;
  const { clientId } = identity;
  return {
    credential:
      identity.kind === "secret"
        ? { type: "service-principal", tenantId, clientId, clientSecret: identity.clientSecret }
        : identity.kind === "certificate"
          ? { type: "service-principal", tenantId, clientId, certificatePem: identity.certificatePem }
          : { type: "workload-identity", tenantId, clientId, tokenFilePath: identity.tokenFilePath },
    identityOptions: standIns.entra.credentialOptions(),
  };
}
