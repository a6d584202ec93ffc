/** Where and as whom the server exports its traces (OpenTelemetry, OTLP over HTTP with JSON bodies). */
export interface TracingConfig {
  /** The full OTLP/HTTP traces URL, e.g. `http://collector:4318/v1/traces`. */
  url: string;
  /** Extra request headers (OTEL_EXPORTER_OTLP_HEADERS), e.g. an API key of a hosted backend. */
  headers: Record<string, string>;
  /** `service.name` of the spans' resource. */
  serviceName: string;
}

/** The already validated OTEL_* keys of the environment (see EnvironmentVariables). */
export interface OtelVariables {
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_HEADERS?: string;
  OTEL_SERVICE_NAME?: string;
  OTEL_SDK_DISABLED?: boolean;
}

export const DEFAULT_SERVICE_NAME = 'hubbub';

/**
 * Tracing is on when an OTLP endpoint is set (and OTEL_SDK_DISABLED is not true), as the OpenTelemetry
 * specification defines these variables: the signal-specific OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as it is,
 * the generic OTEL_EXPORTER_OTLP_ENDPOINT gets `/v1/traces` appended.
 */
export function tracingConfig(vars: OtelVariables): TracingConfig | undefined {
  if (vars.OTEL_SDK_DISABLED === true) return undefined;
  const base = vars.OTEL_EXPORTER_OTLP_ENDPOINT;
  const url =
    vars.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (base === undefined ? undefined : `${base.replace(/\/+$/, '')}/v1/traces`);
  if (url === undefined) return undefined;
  return {
    url,
    headers: parseHeaders(vars.OTEL_EXPORTER_OTLP_HEADERS),
    serviceName: vars.OTEL_SERVICE_NAME ?? DEFAULT_SERVICE_NAME,
  };
}

/** `key1=value1,key2=value2`, values percent-decoded (W3C Baggage octets, as the specification says). */
function parseHeaders(list: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of list?.split(',') ?? []) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const value = pair.slice(eq + 1).trim();
    let decoded = value;
    try {
      decoded = decodeURIComponent(value);
    } catch {
      // not percent-encoded: taken as it is
    }
    headers[pair.slice(0, eq).trim()] = decoded;
  }
  return headers;
}
