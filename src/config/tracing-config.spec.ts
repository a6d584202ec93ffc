import { ConfigError, loadConfig } from './config';
import { decode, encode } from '../broker/redis-broker';

const base = { NODE_ENV: 'test' };

describe('tracing configuration', () => {
  it('is off without an OTLP endpoint', () => {
    expect(loadConfig(base).tracing).toBeUndefined();
  });

  it('appends /v1/traces to OTEL_EXPORTER_OTLP_ENDPOINT and names the service hubbub', () => {
    const config = loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' });
    expect(config.tracing).toEqual({
      url: 'http://collector:4318/v1/traces',
      headers: {},
      serviceName: 'hubbub',
    });
  });

  it('takes OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, the service name and the headers', () => {
    const config = loadConfig({
      ...base,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otlp.example.com/api/traces',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc%3D%3D, tenant = acme',
      OTEL_SERVICE_NAME: 'chat-edge',
    });
    expect(config.tracing).toEqual({
      url: 'https://otlp.example.com/api/traces',
      headers: { 'x-api-key': 'abc==', tenant: 'acme' },
      serviceName: 'chat-edge',
    });
  });

  it('is off when OTEL_SDK_DISABLED is true', () => {
    const env = {
      ...base,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      OTEL_SDK_DISABLED: 'true',
    };
    expect(loadConfig(env).tracing).toBeUndefined();
  });

  it.each([
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318'],
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc'],
    ['OTEL_EXPORTER_OTLP_HEADERS', 'no-equals-sign'],
  ])('refuses a bad %s, naming it', (key, value) => {
    expect(() => loadConfig({ ...base, [key]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, [key]: value })).toThrow(
      new RegExp(`^Invalid configuration: ${key} `),
    );
  });
});

describe('trace context in cross-instance broker messages', () => {
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  it('travels with the message while tracing is on', () => {
    const message = {
      topic: 'room:r',
      except: 'conn-1',
      payload: '{"event":"x"}',
      trace: traceparent,
    };
    expect(decode(encode(message))).toEqual(message);
  });

  it('adds nothing to the envelope while tracing is off', () => {
    const message = { topic: 'room:r', except: 'conn-1', payload: '{"a":"\\t\\n"}' };
    expect(encode(message)).toBe('room:r\nconn-1\n{"a":"\\t\\n"}');
    expect(decode(encode(message))).toEqual(message);
    expect(decode(encode({ topic: 'all', payload: 'p', trace: traceparent }))).toEqual({
      topic: 'all',
      except: undefined,
      payload: 'p',
      trace: traceparent,
    });
  });
});
