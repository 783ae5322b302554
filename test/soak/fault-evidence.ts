import type { LocalEntraEvent } from "../support/entra/index.js";
import type { SqlStandIn, StandInEvent } from "../support/tds/index.js";
import type { FaultKind } from "./fault-schedule.js";

// Proof from the stand-ins' own records that each scheduled fault took effect (a fault nobody met was
// not tested), and the IdP's records per app: token requests, tokens minted per source, faulted answers.
// The local Entra ID's request log is capped, so its events are counted as they come.

export interface IdpRecords {
  requests: number;
  /** Tokens minted per source: the client's proof at the token endpoint, or the endpoint (managed identity, CLI). */
  tokensMinted: Record<string, number>;
  /** Answers an injected fault shaped, by fault kind (serverError, throttle, latency). */
  faulted: Record<string, number>;
}

export interface FaultEvidence {
  /** The stand-ins' `onEvent`s. */
  onSqlEvent(event: StandInEvent): void;
  onEntraEvent(event: LocalEntraEvent): void;
  /** How many times the stand-ins' records show the fault happening. */
  count(kind: FaultKind): number;
  /** What the count is of, for the table. */
  describe(kind: FaultKind): string;
  idp(clientId: string): IdpRecords;
}

/** The IdP's name of a client's proof, as the table shows it. */
const SOURCE_OF_CLIENT_AUTH = {
  secret: "client secret",
  certificate: "certificate",
  federated: "workload identity",
} as const;

export function createFaultEvidence(sql: SqlStandIn, tokenLifetimeMs: number): FaultEvidence {
  const counts = new Map<FaultKind, number>();
  const add = (kind: FaultKind) => counts.set(kind, (counts.get(kind) ?? 0) + 1);
  const idp = new Map<string, IdpRecords>();
  const idpOf = (clientId: string) => {
    const key = clientId.toLowerCase();
    let records = idp.get(key);
    if (!records) {
      records = { requests: 0, tokensMinted: {}, faulted: {} };
      idp.set(key, records);
    }
    return records;
  };
  let outageSince: number | undefined;

  return {
    onSqlEvent(event) {
      if (event.type === "login" && !event.record.ok) {
        const failure = event.record.failure;
        if (failure === "revoked") add("principal-revoked");
        else if (failure === "refused") add("logins-refused-18456");
        else if (failure === "injected" && event.record.errorNumber === 40613) add("login-errors-40613");
      } else if (event.type === "request-rejected") {
        if (event.reason === "revoked") add("principal-revoked");
        else add("revalidation-37396");
      } else if (event.type === "session-closed" && event.reason === "killed") {
        add("killed-sessions");
      } else if (event.type === "request" && sql.latencyMs > 0 && event.durationMs >= sql.latencyMs) {
        add("slow-sql");
      }
    },
    onEntraEvent(event) {
      if (event.type === "request") {
        const { entry } = event;
        const records = entry.clientId === undefined ? undefined : idpOf(entry.clientId);
        if (records) records.requests += 1;
        if (entry.fault === "serverError") add("idp-5xx");
        else if (entry.fault === "throttle") add("idp-429");
        else if (entry.fault === "latency") add("idp-latency");
        if (records && entry.fault !== undefined)
          records.faulted[entry.fault] = (records.faulted[entry.fault] ?? 0) + 1;
      } else if (event.type === "tokenIssued" && event.clientId !== undefined) {
        const minted = idpOf(event.clientId).tokensMinted;
        const source =
          event.clientAuth === undefined ? event.endpoint : SOURCE_OF_CLIENT_AUTH[event.clientAuth];
        minted[source] = (minted[source] ?? 0) + 1;
      } else if (event.type === "listener" && event.listener === "authority") {
        if (event.state === "suspended") outageSince ??= Date.now();
        else if (outageSince !== undefined) {
          add(Date.now() - outageSince < tokenLifetimeMs ? "idp-outage-short" : "idp-outage-long");
          outageSince = undefined;
        }
      }
    },
    count: (kind) => counts.get(kind) ?? 0,
    describe: (kind) => EVIDENCE[kind],
    idp: idpOf,
  };
}

const EVIDENCE: Record<FaultKind, string> = {
  "idp-5xx": "IdP answers 5xx (request log)",
  "idp-429": "IdP answers 429 (request log)",
  "idp-latency": "IdP answers slowed (request log)",
  "idp-outage-short": "authority listener down < token life",
  "idp-outage-long": "authority listener down >= token life",
  "revalidation-37396": "statements refused 37396 (server)",
  "killed-sessions": "sessions closed as killed (server)",
  "principal-revoked": "logins/statements refused as revoked",
  "logins-refused-18456": "logins refused 18456 (server)",
  "login-errors-40613": "logins failed 40613 (server)",
  "slow-sql": "requests answered slowly (server)",
};
