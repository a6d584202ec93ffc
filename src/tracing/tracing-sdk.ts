import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  envDetector,
  hostDetector,
  osDetector,
  processDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { TracingConfig } from '../config/tracing-config';

/**
 * Starts the OpenTelemetry Node SDK for traces only: OTLP/HTTP with JSON bodies, W3C trace context, the instance's
 * NODE_ID as `service.instance.id`. Loaded only when tracing is on (the SDK is a large module tree).
 */
export function startTracingSdk(config: TracingConfig, nodeId: string): NodeSDK {
  const sdk = new NodeSDK({
    serviceName: config.serviceName,
    // This instance's NODE_ID names it in the traces (instead of a random id made at each start).
    resource: resourceFromAttributes({ 'service.instance.id': nodeId }),
    resourceDetectors: [envDetector, hostDetector, osDetector, processDetector],
    traceExporter: new OTLPTraceExporter({ url: config.url, headers: config.headers }),
    textMapPropagator: new W3CTraceContextPropagator(),
    // Traces only: no metrics (Prometheus has them) and no logs (pino writes them).
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  return sdk;
}
