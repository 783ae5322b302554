// @entra-sql/opentelemetry: entra-sql's diagnostics channels as OpenTelemetry metrics, in one call.

export {
  type EntraSqlInstrumentation,
  type InstrumentEntraSqlOptions,
  instrumentEntraSql,
} from "./instrument-entra-sql.js";
export { ATTRIBUTE_NAMES, METRIC_NAMES } from "./metrics.js";
