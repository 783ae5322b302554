import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RegisteredApp, RegisteredManagedIdentity, RegisteredUser } from "./entra/index.js";
import { type LocalEntra, type LocalEntraOptions, startLocalEntra } from "./entra/index.js";
import { type CertificateAuthority, createCertificateAuthority } from "./pki/certificate-authority.js";
import { type SqlStandIn, type SqlStandInOptions, startSqlStandIn } from "./tds/index.js";

// Both stand-ins wired together the way Azure wires Entra ID and Azure SQL: one CA, the SQL
// endpoint trusting the IdP's JWKS and issuer, and `CREATE USER [x] FROM EXTERNAL PROVIDER`
// resolving names through the IdP's directory. Tests, benchmarks, the demo and `pnpm stand-ins`
// all start the pair through here.

export interface StandInsOptions {
  /** Options for the local Entra ID (the shared CA is always passed). */
  entra?: Omit<LocalEntraOptions, "ca">;
  /** Options for the SQL stand-in (TLS, token verification and the name resolver are set here). */
  sql?: Omit<SqlStandInOptions, "tls" | "tokenVerification" | "resolvePrincipalName"> & {
    /** Tolerance for `nbf`/`exp` at login, in seconds. Default: the SQL stand-in's default. */
    clockSkewSeconds?: number;
  };
  /**
   * Register the demo identities (a user the fake `az`/`azd` are logged in as, an app with a
   * client secret, a system-assigned managed identity) and create each as a database user.
   * Default true.
   */
  demoIdentities?: boolean;
  /** Folder for the CA file. Default: a new temporary folder, removed by `close()`. */
  workDir?: string;
}

export interface DemoIdentities {
  user: RegisteredUser;
  app: RegisteredApp;
  managedIdentity: RegisteredManagedIdentity;
}

/** The one line `pnpm stand-ins` prints: everything a client in any language needs. */
export interface StandInsSettings {
  entra: {
    authorityHost: string;
    tenantId: string;
    clientId: string;
    clientSecret: string;
    caFile: string;
    identityEndpoint: string;
    identityHeader: string;
    imdsHost: string;
    cliBinDir: string;
    userPrincipalName: string;
    managedIdentityClientId: string;
  };
  sql: { host: string; port: number; database: string; caFile: string };
}

export interface StandIns {
  ca: CertificateAuthority;
  entra: LocalEntra;
  sql: SqlStandIn;
  /** The CA certificate on disk, for clients that take a file (`caFile`, `NODE_EXTRA_CA_CERTS`). */
  caFile: string;
  /** Present unless `demoIdentities: false`. */
  demo: DemoIdentities | undefined;
  /** The settings line; throws when the demo identities were not registered. */
  settings(): StandInsSettings;
  close(): Promise<void>;
}

export const DEMO_USER_UPN = "demo.user@entra-sql.test";
export const DEMO_APP_NAME = "entra-sql-demo-app";
export const DEMO_MANAGED_IDENTITY_NAME = "entra-sql-demo-host";

export async function startStandIns(options: StandInsOptions = {}): Promise<StandIns> {
  const ownsWorkDir = options.workDir === undefined;
  const workDir = options.workDir ?? (await mkdtemp(join(tmpdir(), "entra-sql-stand-ins-")));
  const ca = await createCertificateAuthority();
  const caFile = join(workDir, "ca.pem");
  await writeFile(caFile, ca.certificatePem);

  const server = await ca.issue({
    commonName: "localhost",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
  });
  let entra: LocalEntra | undefined;
  let sql: SqlStandIn | undefined;
  const closeAll = async () => {
    await Promise.allSettled([sql?.close(), entra?.close()]);
    if (ownsWorkDir) await rm(workDir, { recursive: true, force: true });
  };

  try {
    entra = await startLocalEntra({ ...options.entra, ca });
    const directory = entra;
    const { clockSkewSeconds, ...sqlOptions } = options.sql ?? {};
    sql = await startSqlStandIn({
      ...sqlOptions,
      tls: {
        certificatePem: server.certificatePem,
        privateKeyPem: server.privateKeyPem,
        caPem: ca.certificatePem,
      },
      tokenVerification: {
        jwksUri: entra.jwksUri,
        caPem: entra.caPem,
        tenantId: entra.tenantId,
        ...(clockSkewSeconds === undefined ? {} : { clockSkewSeconds }),
      },
      // Azure SQL resolves the name through the directory: the object id for users, the
      // application (client) id for service principals and managed identities.
      resolvePrincipalName: (name) => {
        const principal = directory.findPrincipalByName(name);
        if (!principal) return undefined;
        return principal.kind === "user" ? { objectId: principal.objectId } : { appId: principal.clientId };
      },
    });

    const demo = options.demoIdentities === false ? undefined : registerDemoIdentities(entra, sql);
    const started = { entra, sql };
    return {
      ca,
      entra,
      sql,
      caFile,
      demo,
      settings: () => settingsLine(started.entra, started.sql, caFile, demo),
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

function registerDemoIdentities(entra: LocalEntra, sql: SqlStandIn): DemoIdentities {
  const user = entra.registerUser({ upn: DEMO_USER_UPN, displayName: "Demo User" });
  const app = entra.registerApp({ displayName: DEMO_APP_NAME, clientSecret: true });
  const managedIdentity = entra.registerManagedIdentity({
    displayName: DEMO_MANAGED_IDENTITY_NAME,
    kind: "system",
  });
  for (const name of [DEMO_USER_UPN, DEMO_APP_NAME, DEMO_MANAGED_IDENTITY_NAME]) sql.createUser({ name });
  // A developer laptop: the CLIs are logged in as the demo user.
  entra.cli.loginAs(user);
  return { user, app, managedIdentity };
}

function settingsLine(
  entra: LocalEntra,
  sql: SqlStandIn,
  caFile: string,
  demo: DemoIdentities | undefined,
): StandInsSettings {
  if (!demo) throw new Error("stand-ins: settings() needs the demo identities (demoIdentities: true)");
  const clientSecret = demo.app.clientSecret;
  if (clientSecret === undefined) throw new Error("stand-ins: the demo app has no client secret");
  return {
    entra: {
      authorityHost: entra.authorityHost,
      tenantId: entra.tenantId,
      clientId: demo.app.clientId,
      clientSecret,
      caFile,
      identityEndpoint: entra.identityEndpoint,
      identityHeader: entra.identityHeader,
      imdsHost: entra.imdsHost,
      cliBinDir: entra.cli.binDir,
      userPrincipalName: demo.user.upn,
      managedIdentityClientId: demo.managedIdentity.clientId,
    },
    sql: { host: sql.host, port: sql.port, database: sql.database, caFile },
  };
}
