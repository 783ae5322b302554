// @entra-sql/core/internal: what @entra-sql/driver-kit builds on. Not for applications, and not covered
// by semver: the kit is released in lockstep with core. Apps import from "@entra-sql/core".

// The credential chain on its own (the token source builds one), for tests and diagnostics.
export { type CredentialChain, createCredentialChain } from "./credential-chain.js";
export type { IdentityOptions } from "./credential-presets.js";
export { editDistance } from "./edit-distance.js";
export { errorGraph, read } from "./error-graph.js";
export { invalidOptionFor } from "./errors.js";
export {
  displayText,
  humanDuration,
  inspectCustom,
  isoTime,
  looksSecret,
  printable,
  // The same printer under the name option validators use for InvalidOptionError's `value`.
  printable as describeOptionValue,
  REDACTED,
  redactTokensIn,
} from "./redact.js";
export { canonicalScope } from "./scope-guard.js";
export { serverHost } from "./sql-scope.js";
export { decodePayload } from "./token-identity.js";
