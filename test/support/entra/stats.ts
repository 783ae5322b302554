import { inspect } from "node:util";
import { ENDPOINT_NAMES, type EndpointName } from "./endpoints.js";
import type { FaultKind } from "./faults.js";

// Counters and the request log: what benchmarks and tests assert on ("one token fetch per 1,000
// connections", "the 429 was retried"). Entries hold names and outcomes only: never a secret, an
// assertion or a token, and the path without its query string.

export interface Counter {
  requests: number;
  tokensIssued: number;
}

export interface RequestLogEntry {
  /** Wall-clock time the request was answered, epoch ms (not shifted by `clockOffsetMs`). */
  time: number;
  endpoint: EndpointName;
  method: string;
  /** URL path only (no query), or for the CLIs the command (`az account get-access-token`). */
  path: string;
  clientId?: string;
  upn?: string;
  resource?: string;
  /** HTTP status; for the CLIs 200 = exit 0, otherwise 400 + exit code. */
  status: number;
  /** OAuth2 / endpoint error code of a failed request (`invalid_client`). */
  error?: string;
  /** The injected fault that shaped the response, if any. */
  fault?: FaultKind;
  durationMs: number;
}

export interface StatsSnapshot {
  total: Counter;
  endpoints: Record<EndpointName, Counter>;
  /** Keyed by client id (apps, managed identities) or UPN (users). */
  identities: Record<string, Counter>;
}

export class Stats {
  readonly #limit: number;
  #endpoints = new Map<EndpointName, Counter>();
  #identities = new Map<string, Counter>();
  #log: RequestLogEntry[] = [];
  #dropped = 0;

  /** `limit` caps the log (oldest entries dropped) so long soak runs stay bounded. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  recordRequest(entry: RequestLogEntry): void {
    this.#endpoint(entry.endpoint).requests += 1;
    const key = entry.clientId ?? entry.upn;
    if (key !== undefined) this.#identity(key).requests += 1;
    this.#log.push(Object.freeze({ ...entry }));
    if (this.#log.length > this.#limit) {
      this.#dropped += this.#log.length - this.#limit;
      this.#log.splice(0, this.#log.length - this.#limit);
    }
  }

  recordTokenIssued(endpoint: EndpointName, identity: string): void {
    this.#endpoint(endpoint).tokensIssued += 1;
    this.#identity(identity).tokensIssued += 1;
  }

  forEndpoint(endpoint: EndpointName): Counter {
    return { ...this.#endpoint(endpoint) };
  }

  /** By client id or UPN (case-insensitive). */
  forIdentity(identity: string): Counter {
    return { ...(this.#identities.get(identity.toLowerCase()) ?? { requests: 0, tokensIssued: 0 }) };
  }

  snapshot(): StatsSnapshot {
    const endpoints = Object.fromEntries(ENDPOINT_NAMES.map((e) => [e, this.forEndpoint(e)])) as Record<
      EndpointName,
      Counter
    >;
    const total = Object.values(endpoints).reduce(
      (sum, c) => ({ requests: sum.requests + c.requests, tokensIssued: sum.tokensIssued + c.tokensIssued }),
      { requests: 0, tokensIssued: 0 },
    );
    const identities = Object.fromEntries([...this.#identities].map(([k, c]) => [k, { ...c }]));
    return { total, endpoints, identities };
  }

  /** A copy of the log, oldest first. */
  get requestLog(): readonly RequestLogEntry[] {
    return [...this.#log];
  }

  /** Zeroes the counters and empties the log. */
  reset(): void {
    this.#endpoints = new Map();
    this.#identities = new Map();
    this.#log = [];
    this.#dropped = 0;
  }

  toJSON(): object {
    return { ...this.snapshot(), logEntries: this.#log.length, logEntriesDropped: this.#dropped };
  }

  [inspect.custom](): object {
    return this.toJSON();
  }

  #endpoint(endpoint: EndpointName): Counter {
    let counter = this.#endpoints.get(endpoint);
    if (!counter) {
      counter = { requests: 0, tokensIssued: 0 };
      this.#endpoints.set(endpoint, counter);
    }
    return counter;
  }

  #identity(identity: string): Counter {
    const key = identity.toLowerCase();
    let counter = this.#identities.get(key);
    if (!counter) {
      counter = { requests: 0, tokensIssued: 0 };
      this.#identities.set(key, counter);
    }
    return counter;
  }
}
