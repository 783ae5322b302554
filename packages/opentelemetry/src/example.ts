// The README's setup as code, type-checked with the package (not shipped: the build leaves it out).
import { metrics } from "@opentelemetry/api";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { instrumentEntraSql } from "./index.js";

/** Step 2 with a MeterProvider of your own: Prometheus scrapes http://localhost:9464/metrics. */
export function prometheusExample(): () => Promise<void> {
  const meterProvider = new MeterProvider({ readers: [new PrometheusExporter({ port: 9464 })] });
  const instrumentation = instrumentEntraSql({ meterProvider });
  return async () => {
    instrumentation.unsubscribe();
    await meterProvider.shutdown();
  };
}

/** Step 2 when the app registers a global MeterProvider (the OpenTelemetry Node SDK does). */
export function globalProviderExample(meterProvider: MeterProvider): void {
  metrics.setGlobalMeterProvider(meterProvider);
  instrumentEntraSql();
}
