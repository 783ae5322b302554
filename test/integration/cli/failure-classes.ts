import type { StandIns } from "../../support/stand-ins.js";
import { demoApp } from "../mssql/helpers.js";
import { closedPort, doctorArgs, servicePrincipalEnv, standInEnv } from "./helpers.js";

// Each failure class `entra-sql doctor` tells apart, set up against the stand-ins: the arguments and
// environment of a run that meets it, its exit code, and a phrase its output must contain. The built
// bin's tests (cli.test.ts) and the packed tarball's (test/consumers/cli-tarball.test.ts) both run them.

export interface FailureRun {
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Undoes what the setup changed on the stand-ins (e.g. a firewall rule). */
  restore?: () => void;
}

export interface FailureClass {
  exitCode: number;
  /** A phrase of the failing step's line. */
  says: string;
  setup(standIns: StandIns): Promise<FailureRun>;
}

const replacing = (args: string[], from: string, to: string) => args.map((arg) => (arg === from ? to : arg));

export const FAILURE_CLASSES = {
  "no credential": {
    exitCode: 10,
    says: "no credential source is set up here",
    setup: async (standIns) => ({
      args: doctorArgs(standIns, "--credential", "environment"),
      env: standInEnv(standIns),
    }),
  },
  "wrong secret": {
    exitCode: 11,
    says: "The client secret is wrong or expired",
    setup: async (standIns) => ({
      args: doctorArgs(standIns, "--credential", "service-principal"),
      env: servicePrincipalEnv(standIns, demoApp(standIns).clientId, "not-the-secret-0123456789"),
    }),
  },
  "not a database user": {
    exitCode: 30,
    says: "FROM EXTERNAL PROVIDER WITH OBJECT_ID",
    setup: async (standIns) => {
      const stranger = standIns.entra.registerApp({ displayName: "doctor-stranger", clientSecret: true });
      return {
        args: doctorArgs(standIns, "--credential", "service-principal", "--roles", "db_datareader"),
        env: servicePrincipalEnv(standIns, stranger.clientId, stranger.clientSecret ?? ""),
      };
    },
  },
  "wrong database": {
    exitCode: 31,
    says: 'database "no_such_db" cannot be opened (4060)',
    setup: async (standIns) => ({
      args: replacing(doctorArgs(standIns, "--credential", "cli"), standIns.sql.database, "no_such_db"),
      env: standInEnv(standIns),
    }),
  },
  "server down": {
    exitCode: 21,
    says: "nothing accepts connections on port",
    setup: async (standIns) => ({
      args: replacing(
        doctorArgs(standIns, "--credential", "cli", "--timeout", "3"),
        String(standIns.sql.port),
        String(await closedPort()),
      ),
      env: standInEnv(standIns),
    }),
  },
  "untrusted certificate": {
    exitCode: 22,
    says: "the certificate is not trusted by this machine",
    setup: async (standIns) => ({
      args: doctorArgs(standIns, "--credential", "cli"),
      env: standInEnv(standIns, { NODE_EXTRA_CA_CERTS: undefined }),
    }),
  },
  firewall: {
    exitCode: 32,
    says: "Client with IP address '127.0.0.1' is not allowed to access the server.",
    setup: async (standIns) => {
      standIns.sql.setFirewall({ allowedAddresses: ["203.0.113.7"] });
      return {
        args: doctorArgs(standIns, "--credential", "cli"),
        env: standInEnv(standIns),
        restore: () => standIns.sql.setFirewall(undefined),
      };
    },
  },
} satisfies Record<string, FailureClass>;
