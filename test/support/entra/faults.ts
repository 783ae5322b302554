import { inspect } from "node:util";
import { type EndpointName, LISTENER_OF, type ListenerName } from "./endpoints.js";

// Fault injection. Tests make the IdP misbehave the ways real Entra ID and the managed-identity
// endpoints do (5xx, 429 with Retry-After, slowness, outages, rejected credentials, broken bodies),
// for the next N requests or until cleared, on one endpoint or all, optionally for one client only.

/** Where a fault applies: one endpoint, both managed-identity protocols, or everything. */
export type FaultTarget = EndpointName | "managedIdentity" | "any";

export type FaultSpec =
  /** HTTP 5xx (default 500). */
  | { kind: "serverError"; status?: number }
  /** HTTP 429 with `Retry-After: <seconds>`. */
  | { kind: "throttle"; retryAfterSeconds: number }
  /** Delay before the (otherwise normal, or otherwise faulted) response. */
  | { kind: "latency"; ms: number }
  /**
   * The listener stops accepting: its socket is closed and open connections dropped, so clients
   * get ECONNREFUSED; it reopens on the same port when the fault is cleared. Granularity is the
   * listener (token, discovery and JWKS share the HTTPS one). Lasts until cleared; no `times`.
   */
  | { kind: "outage" }
  /** The credential is rejected like a wrong secret (AADSTS7000215 / the endpoint's equivalent). */
  | { kind: "invalidClient" }
  /** HTTP 200 with a truncated JSON body. */
  | { kind: "malformedJson" };

export type FaultKind = FaultSpec["kind"];

export type FaultOptions = FaultSpec & {
  /** Default "any". */
  endpoint?: FaultTarget;
  /** Only requests of this client id (or, for the CLIs, this UPN or client id). */
  clientId?: string;
  /** Apply to the next N matching requests, then vanish. Default: until cleared. */
  times?: number;
};

export interface FaultHandle {
  readonly id: number;
  readonly kind: FaultKind;
  readonly endpoint: FaultTarget;
  /** Matching requests still to be faulted; `undefined` = until cleared. */
  readonly remaining: number | undefined;
  readonly active: boolean;
  /** Removes the fault; for an outage, resolves once the listener listens again. */
  clear(): Promise<void>;
}

/** The fault a request gets. */
export interface AppliedFaults {
  latencyMs: number;
  /** The first matching non-latency fault, which replaces the normal response. */
  response: Exclude<FaultSpec, { kind: "latency" } | { kind: "outage" }> | undefined;
}

export interface ListenerControl {
  suspend(listener: ListenerName): void;
  resume(listener: ListenerName): Promise<void>;
}

interface ActiveFault {
  id: number;
  spec: FaultSpec;
  endpoint: FaultTarget;
  clientId: string | undefined;
  remaining: number | undefined;
}

export class Faults {
  readonly #control: ListenerControl;
  readonly #onChange: (
    change: "injected" | "cleared",
    fault: { id: number; kind: FaultKind; endpoint: FaultTarget },
  ) => void;
  #active: ActiveFault[] = [];
  #nextId = 1;

  constructor(
    control: ListenerControl,
    onChange: (
      change: "injected" | "cleared",
      fault: { id: number; kind: FaultKind; endpoint: FaultTarget },
    ) => void,
  ) {
    this.#control = control;
    this.#onChange = onChange;
  }

  inject(options: FaultOptions): FaultHandle {
    const endpoint = options.endpoint ?? "any";
    validate(options, endpoint);
    const fault: ActiveFault = {
      id: this.#nextId++,
      spec: specOf(options),
      endpoint,
      clientId: options.clientId?.toLowerCase(),
      remaining: options.times,
    };
    this.#active.push(fault);
    this.#onChange("injected", { id: fault.id, kind: fault.spec.kind, endpoint });
    if (fault.spec.kind === "outage") {
      // server.close() stops accepting synchronously, so the outage is in force when inject returns.
      for (const listener of listenersOf(endpoint)) this.#control.suspend(listener);
    }
    const faults = this;
    return {
      id: fault.id,
      kind: fault.spec.kind,
      endpoint,
      get remaining() {
        return fault.remaining;
      },
      get active() {
        return faults.#active.includes(fault);
      },
      clear: () => this.#remove([fault]),
    };
  }

  /** Removes every fault and reopens every listener an outage closed. */
  clear(): Promise<void> {
    return this.#remove([...this.#active]);
  }

  /** Active faults, for diagnostics. */
  list(): Array<{
    id: number;
    kind: FaultKind;
    endpoint: FaultTarget;
    clientId?: string;
    remaining?: number;
  }> {
    return this.#active.map((f) => ({
      id: f.id,
      kind: f.spec.kind,
      endpoint: f.endpoint,
      ...(f.clientId !== undefined ? { clientId: f.clientId } : {}),
      ...(f.remaining !== undefined ? { remaining: f.remaining } : {}),
    }));
  }

  /** The faults one request gets; consumes one use of each fault applied. */
  take(endpoint: EndpointName, identities: readonly (string | undefined)[]): AppliedFaults {
    const keys = identities.filter((i): i is string => i !== undefined).map((i) => i.toLowerCase());
    const applied: AppliedFaults = { latencyMs: 0, response: undefined };
    const used: ActiveFault[] = [];
    for (const fault of this.#active) {
      if (fault.spec.kind === "outage" || !targets(fault.endpoint, endpoint)) continue;
      if (fault.clientId !== undefined && !keys.includes(fault.clientId)) continue;
      if (fault.spec.kind === "latency") {
        applied.latencyMs += fault.spec.ms;
        used.push(fault);
      } else if (applied.response === undefined) {
        applied.response = fault.spec;
        used.push(fault);
      }
    }
    const exhausted: ActiveFault[] = [];
    for (const fault of used) {
      if (fault.remaining === undefined) continue;
      fault.remaining -= 1;
      if (fault.remaining <= 0) exhausted.push(fault);
    }
    if (exhausted.length > 0) void this.#remove(exhausted);
    return applied;
  }

  async #remove(faults: readonly ActiveFault[]): Promise<void> {
    const removed = faults.filter((f) => this.#active.includes(f));
    if (removed.length === 0) return;
    this.#active = this.#active.filter((f) => !removed.includes(f));
    for (const f of removed) this.#onChange("cleared", { id: f.id, kind: f.spec.kind, endpoint: f.endpoint });
    const stillDown = new Set(
      this.#active.filter((f) => f.spec.kind === "outage").flatMap((f) => listenersOf(f.endpoint)),
    );
    const toResume = new Set(
      removed.filter((f) => f.spec.kind === "outage").flatMap((f) => listenersOf(f.endpoint)),
    );
    await Promise.all([...toResume].filter((l) => !stillDown.has(l)).map((l) => this.#control.resume(l)));
  }

  toJSON(): object {
    return { active: this.list() };
  }

  [inspect.custom](): object {
    return this.toJSON();
  }
}

function targets(target: FaultTarget, endpoint: EndpointName): boolean {
  if (target === "any" || target === endpoint) return true;
  return target === "managedIdentity" && (endpoint === "imds" || endpoint === "appService");
}

function listenersOf(target: FaultTarget): ListenerName[] {
  if (target === "any") return ["authority", "appService", "imds", "cli"];
  if (target === "managedIdentity") return ["appService", "imds"];
  return [LISTENER_OF[target]];
}

function specOf(options: FaultOptions): FaultSpec {
  switch (options.kind) {
    case "serverError":
      return { kind: "serverError", status: options.status ?? 500 };
    case "throttle":
      return { kind: "throttle", retryAfterSeconds: options.retryAfterSeconds };
    case "latency":
      return { kind: "latency", ms: options.ms };
    case "outage":
      return { kind: "outage" };
    case "invalidClient":
      return { kind: "invalidClient" };
    case "malformedJson":
      return { kind: "malformedJson" };
  }
}

const TARGETS = new Set<FaultTarget>([
  "discovery",
  "jwks",
  "token",
  "appService",
  "imds",
  "cli",
  "managedIdentity",
  "any",
]);

function validate(options: FaultOptions, endpoint: FaultTarget): void {
  if (!TARGETS.has(endpoint)) throw new TypeError(`faults.inject: unknown endpoint '${String(endpoint)}'`);
  if (options.times !== undefined && (!Number.isInteger(options.times) || options.times < 1)) {
    throw new RangeError(`faults.inject: times must be a positive integer, got ${options.times}`);
  }
  switch (options.kind) {
    case "serverError":
      if (options.status !== undefined && (options.status < 500 || options.status > 599)) {
        throw new RangeError(`faults.inject: serverError status must be 5xx, got ${options.status}`);
      }
      return;
    case "throttle":
      if (!Number.isInteger(options.retryAfterSeconds) || options.retryAfterSeconds < 0) {
        throw new RangeError("faults.inject: throttle needs retryAfterSeconds, a whole number >= 0");
      }
      return;
    case "latency":
      if (!Number.isFinite(options.ms) || options.ms < 0)
        throw new RangeError("faults.inject: latency ms >= 0");
      return;
    case "outage":
      if (options.clientId !== undefined) {
        throw new TypeError(
          "faults.inject: an outage closes a listener for everyone; it cannot target a client",
        );
      }
      if (options.times !== undefined) {
        throw new TypeError(
          "faults.inject: an outage refuses connections, so it cannot count requests; clear it",
        );
      }
      return;
    case "invalidClient":
    case "malformedJson":
      return;
    default:
      throw new TypeError(
        `faults.inject: unknown fault kind '${String((options as { kind: unknown }).kind)}'`,
      );
  }
}
