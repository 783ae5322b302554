// The soak's fault schedule: which fault starts when, for how long and against which app, drawn from
// one seeded PRNG so that a run can be replayed from the seed it prints. Every kind is scheduled at
// least once whatever the run's length; longer runs get more of each. Faults overlap and come in random
// order, with these constraints, which keep the run meaningful:
// - IdP outages are a token's life apart at least, so "shorter than a token's life" stays short: two
//   short ones closer than that can cover all the time an app has to refresh its token in between;
// - the first fault of every other kind starts outside every outage and the few seconds after it (during
//   an outage longer than a token's life no app can log in, and the IdP answers nothing, so a fault
//   that needs a token request, a login or a session would meet none and go untested);
// - a principal is revoked for one app at a time, and restored, so the other apps keep running;
// - IdP 5xx and 429 windows never overlap one another, and start a few seconds after an outage at the
//   earliest (IDP_ERROR_CLEAR_OF_OUTAGE_MS);
// - every fault ends before the last stretch of the run, which shows the apps recover.

export const FAULT_KINDS = [
  "idp-5xx",
  "idp-429",
  "idp-latency",
  "idp-outage-short",
  "idp-outage-long",
  "revalidation-37396",
  "killed-sessions",
  "principal-revoked",
  "logins-refused-18456",
  "login-errors-40613",
  "slow-sql",
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

export interface ScheduledFault {
  kind: FaultKind;
  /** Since the load started, ms. */
  atMs: number;
  /** 0 for a one-off event (revalidation, kills, injected login errors). */
  durationMs: number;
  /** The app it targets (revocation, revalidation, kills); undefined: all of them. */
  app: string | undefined;
  /** The kind's size: IdP or SQL latency in ms, Retry-After in s, how many requests or sessions. */
  amount: number;
}

export interface ScheduleInput {
  seed: number;
  durationMs: number;
  tokenLifetimeMs: number;
  apps: readonly string[];
}

/** mulberry32: a small, fast 32-bit PRNG; the same seed gives the same sequence on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A new seed for a run given none (printed, so the run can be replayed). */
export function newSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

const OUTAGES: readonly FaultKind[] = ["idp-outage-short", "idp-outage-long"];
const IDP_ERRORS: readonly FaultKind[] = ["idp-5xx", "idp-429"];
/**
 * IdP error answers start this long after an outage at the earliest: a token request sent into an outage
 * is still retrying (its HTTP pipeline: 3 retries over about 6 s) when the IdP is back, and an error
 * answer on its last try reaches msal-node, which then replays a 5xx for 60 s without asking the IdP
 * again: longer than a time-compressed token lives (real tokens have minutes to spare). Before an outage
 * no gap is needed: a try that ends refused is a network error, which msal-node does not replay.
 */
const IDP_ERROR_CLEAR_OF_OUTAGE_MS = 6_000;
/** The slowest SQL round trip the schedule injects, ms (run-soak.ts allows for it in the max-age check). */
export const MAX_SLOW_SQL_MS = 300;
/** A fault of each kind on average this often, beyond the first; long outages more rarely. */
const EXTRA_EVERY_MS = 60_000;
const EXTRA_LONG_OUTAGE_EVERY_MS = 150_000;
const PLACEMENT_TRIES = 200;
const SCAN_STEP_MS = 100;
/** A first fault keeps this clear of an outage's end (the apps get their tokens and sessions back). */
const AFTER_OUTAGE_MS = 3_000;
/** ... and this much of its start: the part of its window in which it must be met. */
const MUST_MEET_MS = 3_000;

export function computeSchedule(input: ScheduleInput): ScheduledFault[] {
  const random = seededRandom(input.seed);
  const between = (low: number, high: number) => low + random() * (high - low);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const life = input.tokenLifetimeMs;
  // Faults start after a short warm-up and end before the tail, in which every app must recover.
  const firstMs = 2_000;
  const lastMs = input.durationMs - Math.max(5_000, input.durationMs * 0.1);

  const shape = (kind: FaultKind): Omit<ScheduledFault, "atMs"> => {
    switch (kind) {
      case "idp-5xx":
        return { kind, durationMs: between(2_000, 4_000), app: undefined, amount: 2 };
      case "idp-429":
        return { kind, durationMs: between(2_000, 4_000), app: undefined, amount: 1 };
      case "idp-latency":
        return {
          kind,
          durationMs: between(3_000, 6_000),
          app: undefined,
          amount: Math.round(between(1_000, 2_500)),
        };
      case "idp-outage-short":
        return { kind, durationMs: life / 3, app: undefined, amount: 0 };
      case "idp-outage-long":
        return { kind, durationMs: life * 1.3, app: undefined, amount: 0 };
      case "revalidation-37396":
        return { kind, durationMs: 0, app: pick(input.apps), amount: 0 };
      case "killed-sessions":
        return { kind, durationMs: 0, app: pick(input.apps), amount: 1 + Math.floor(random() * 2) };
      case "principal-revoked":
        return { kind, durationMs: between(3_000, 5_000), app: pick(input.apps), amount: 0 };
      case "logins-refused-18456":
        return { kind, durationMs: between(1_500, 3_000), app: undefined, amount: 0 };
      case "login-errors-40613":
        return { kind, durationMs: 0, app: undefined, amount: 2 };
      case "slow-sql":
        return {
          kind,
          durationMs: between(2_000, 5_000),
          app: undefined,
          amount: Math.round(between(100, MAX_SLOW_SQL_MS)),
        };
    }
  };

  const schedule: ScheduledFault[] = [];
  const overlaps = (a: ScheduledFault, b: ScheduledFault) =>
    a.atMs < b.atMs + b.durationMs && b.atMs < a.atMs + a.durationMs;
  const clashes = (fault: ScheduledFault, first: boolean) =>
    schedule.some((other) => {
      const bothOutages = OUTAGES.includes(fault.kind) && OUTAGES.includes(other.kind);
      const bothRevocations = fault.kind === "principal-revoked" && other.kind === "principal-revoked";
      // Two IdP error windows at once could hand one token request more errors than its retries.
      const bothIdpErrors = IDP_ERRORS.includes(fault.kind) && IDP_ERRORS.includes(other.kind);
      if (bothOutages)
        return overlaps(fault, {
          ...other,
          atMs: other.atMs - life,
          durationMs: other.durationMs + 2 * life,
        });
      if (bothRevocations || bothIdpErrors) return overlaps(fault, other);
      const afterOutage = { ...other, durationMs: other.durationMs + IDP_ERROR_CLEAR_OF_OUTAGE_MS };
      if (IDP_ERRORS.includes(fault.kind) && OUTAGES.includes(other.kind) && overlaps(fault, afterOutage))
        return true;
      if (!first || OUTAGES.includes(fault.kind) || !OUTAGES.includes(other.kind)) return false;
      const met = { ...fault, durationMs: MUST_MEET_MS };
      return overlaps(met, { ...other, durationMs: other.durationMs + AFTER_OUTAGE_MS });
    });
  const place = (kind: FaultKind, first: boolean) => {
    const shaped = shape(kind);
    const latest = Math.max(firstMs, lastMs - shaped.durationMs);
    let fault: ScheduledFault = { ...shaped, atMs: between(firstMs, latest) };
    for (let tries = 1; tries < PLACEMENT_TRIES && clashes(fault, first); tries++) {
      fault = { ...shaped, atMs: between(firstMs, latest) };
    }
    // Random tries can miss a narrow gap in a short run: then the first free spot, scanning from the start.
    for (let atMs = firstMs; atMs <= latest && clashes(fault, first); atMs += SCAN_STEP_MS) {
      fault = { ...shaped, atMs };
    }
    schedule.push(fault);
  };

  // Outages first, every one of them (they constrain the rest), the long ones first: they need the room.
  const extraLong = Math.floor(input.durationMs / EXTRA_LONG_OUTAGE_EVERY_MS);
  const extraEach = Math.floor(input.durationMs / EXTRA_EVERY_MS);
  for (let i = 0; i <= extraLong; i++) place("idp-outage-long", true);
  for (let i = 0; i <= extraEach; i++) place("idp-outage-short", true);
  const others = FAULT_KINDS.filter((kind) => !OUTAGES.includes(kind));
  for (const kind of others) place(kind, true);
  for (let i = 0; i < extraEach * others.length; i++) place(pick(others), false);
  return schedule.sort((a, b) => a.atMs - b.atMs);
}
