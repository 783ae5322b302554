// The local Microsoft Entra ID for tests, benchmarks and the example apps' local mode.
// Start one with `startLocalEntra()`; see local-entra.ts for the API and README-style notes.

export {
  AmbiguousPrincipalError,
  type CertificateInput,
  type FederatedCredential,
  type FederatedCredentialInput,
  type ManagedIdentityAssignment,
  type PrincipalInfo,
  type PrincipalKind,
  type PrincipalRef,
  type RegisterAppOptions,
  type RegisteredApp,
  type RegisteredManagedIdentity,
  type RegisteredPrincipal,
  type RegisteredUser,
  type RegisterManagedIdentityOptions,
  type RegisterUserOptions,
  TOKEN_EXCHANGE_AUDIENCE,
} from "./directory.js";
export { ENDPOINT_NAMES, type EndpointName, type ListenerName } from "./endpoints.js";
export { type EntraErrorBody, entraTimestamp } from "./entra-errors.js";
export type { LocalEntraEvent, LocalEntraEventHandler } from "./events.js";
export { azLocalTimestamp, type CliLoginOptions, type CliTool, FakeCli } from "./fake-cli.js";
export type { CliRuntime } from "./fake-cli-scripts.js";
export type { FaultHandle, FaultKind, FaultOptions, FaultSpec, Faults, FaultTarget } from "./faults.js";
export type { FederatedAssertionOptions } from "./federated-issuer.js";
export {
  LocalEntra,
  type LocalEntraCredentialOptions,
  type LocalEntraOptions,
  type MintAccessTokenOptions,
  SQL_RESOURCE,
  SQL_SCOPE,
  startLocalEntra,
} from "./local-entra.js";
export { DEFAULT_RESOURCES } from "./resources.js";
export type { LocalEntraSettings, LocalEntraSettingsValues } from "./settings.js";
export type { Counter, RequestLogEntry, Stats, StatsSnapshot } from "./stats.js";
export {
  type AccessTokenClaims,
  AZURE_CLI_CLIENT_ID,
  type JsonWebKeySet,
  type MintedAccessToken,
  type PublicJwk,
  stsIssuer,
  type TokenSubject,
} from "./token-minter.js";
