import { type LocalEntra, startLocalEntra } from "../../entra/index.js";
import type { TokenVerificationOptions } from "../token-verifier.js";

// The identity side of the TDS tests: the project's local Entra ID (test/support/entra), plus the
// stand-in's token verification options pointing at it. One file, so the tests do not care where
// tokens come from.

export interface TestIdentity {
  entra: LocalEntra;
  tokenVerification(overrides?: Partial<TokenVerificationOptions>): TokenVerificationOptions;
  close(): Promise<void>;
}

export async function startTestIdentity(): Promise<TestIdentity> {
  const entra = await startLocalEntra();
  return {
    entra,
    tokenVerification: (overrides = {}) => ({
      jwksUri: entra.jwksUri,
      caPem: entra.caPem,
      tenantId: entra.tenantId,
      clockSkewSeconds: 5,
      ...overrides,
    }),
    close: () => entra.close(),
  };
}
