import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { TOKEN_SOURCE_CHANNEL, type TokenSourceDiagnostic } from "@entra-sql/core";
import { describeOptionValue, invalidOptionFor } from "@entra-sql/core/internal";
import { CONNECTION_CHANNEL, type ConnectionDiagnostic } from "@entra-sql/driver-kit";
import { type Meter, type MeterProvider, metrics } from "@opentelemetry/api";
import { LatestTokenExpiry } from "./latest-token-expiry.js";
import { createInstruments } from "./metrics.js";
import { recordConnectionEvent, recordTokenSourceEvent } from "./record-events.js";

const PACKAGE_NAME = "@entra-sql/opentelemetry";
const invalid = invalidOptionFor(PACKAGE_NAME);

export interface InstrumentEntraSqlOptions {
  /**
   * Where this package's meter (named "@entra-sql/opentelemetry") comes from. Optional; default: the
   * global MeterProvider (`metrics.getMeterProvider()`: what the OpenTelemetry Node SDK or
   * `metrics.setGlobalMeterProvider` registered). Give `meter` or `meterProvider`, not both.
   * @example instrumentEntraSql({ meterProvider: new MeterProvider({ readers: [reader] }) })
   */
  meterProvider?: MeterProvider;
  /**
   * The meter to record with, instead of one from a MeterProvider. Optional.
   * @example instrumentEntraSql({ meter: provider.getMeter("my-app") })
   */
  meter?: Meter;
}

const OPTION_NAMES: readonly string[] = ["meterProvider", "meter"] satisfies Array<
  keyof InstrumentEntraSqlOptions
>;

/** What `instrumentEntraSql` returns. */
export interface EntraSqlInstrumentation {
  /** Stops recording: leaves both channels and removes the gauge's callback. Safe to call twice. */
  unsubscribe(): void;
}

/**
 * The instrumentation recording now, process-wide: kept on globalThis so that two copies of this
 * package (two versions in one app, or a bundled one) still replace each other rather than both count.
 */
const ACTIVE = Symbol.for("@entra-sql/opentelemetry.active");
const registry = globalThis as { [ACTIVE]?: EntraSqlInstrumentation };

/**
 * Subscribes to entra-sql's diagnostics channels (core's token sources, every adapter's connections)
 * and records their events as OpenTelemetry metrics (see the README's table). One instrumentation
 * records at a time: a second call stops the first (whose `unsubscribe()` then does nothing) and
 * records with the new meter from then on, so nothing is counted twice.
 * @example const instrumentation = instrumentEntraSql(); // the global MeterProvider
 */
export function instrumentEntraSql(options?: InstrumentEntraSqlOptions): EntraSqlInstrumentation {
  const meter = resolveMeter(options);
  registry[ACTIVE]?.unsubscribe();

  const instruments = createInstruments(meter);
  const expiry = new LatestTokenExpiry();
  instruments.tokenRemainingValidity.addCallback(expiry.observe);
  // A subscriber that throws would surface as an uncaught exception in the app: never let one out.
  const onTokenSourceEvent = (message: unknown) => {
    try {
      recordTokenSourceEvent(message as TokenSourceDiagnostic, instruments, expiry);
    } catch {
      // A metric not recorded must not break a token fetch.
    }
  };
  const onConnectionEvent = (message: unknown) => {
    try {
      recordConnectionEvent(message as ConnectionDiagnostic, instruments);
    } catch {
      // A metric not recorded must not break a login, a query or a release.
    }
  };
  subscribe(TOKEN_SOURCE_CHANNEL, onTokenSourceEvent);
  subscribe(CONNECTION_CHANNEL, onConnectionEvent);

  let subscribed = true;
  const instrumentation: EntraSqlInstrumentation = {
    unsubscribe() {
      if (!subscribed) return;
      subscribed = false;
      unsubscribe(TOKEN_SOURCE_CHANNEL, onTokenSourceEvent);
      unsubscribe(CONNECTION_CHANNEL, onConnectionEvent);
      instruments.tokenRemainingValidity.removeCallback(expiry.observe);
      expiry.clear();
      if (registry[ACTIVE] === instrumentation) delete registry[ACTIVE];
    },
  };
  registry[ACTIVE] = instrumentation;
  return instrumentation;
}

function resolveMeter(options: unknown): Meter {
  if (options === undefined) options = {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw invalid(
      "options",
      describeOptionValue(options),
      `an object of ${PACKAGE_NAME} options, or nothing`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.includes(key)) {
      throw invalid(key, "not a known option", `one of ${OPTION_NAMES.join(", ")}`);
    }
  }
  const { meter, meterProvider } = options as InstrumentEntraSqlOptions;
  if (meter !== undefined && meterProvider !== undefined) {
    throw invalid("meter", "given with meterProvider", "either meter or meterProvider, not both");
  }
  if (meter !== undefined) {
    if (typeof (meter as Partial<Meter>)?.createCounter !== "function") {
      throw invalid("meter", describeOptionValue(meter), "an OpenTelemetry Meter (provider.getMeter(name))");
    }
    return meter;
  }
  if (
    meterProvider !== undefined &&
    typeof (meterProvider as Partial<MeterProvider>)?.getMeter !== "function"
  ) {
    throw invalid("meterProvider", describeOptionValue(meterProvider), "an OpenTelemetry MeterProvider");
  }
  return (meterProvider ?? metrics.getMeterProvider()).getMeter(PACKAGE_NAME);
}
