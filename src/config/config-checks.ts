import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { EnvironmentVariables, RedisTarget, TlsFiles } from './config';
import { ConfigError } from './config-error';

/** Checks of the configuration that go beyond one key's type and range: each throws a ConfigError naming the key. */

/** REDIS_URL, the Sentinel pair, or REDIS_CLUSTER_NODES; never two of them, never half of the pair. */
export function redisTarget(vars: EnvironmentVariables): RedisTarget | undefined {
  const { REDIS_URL: url, REDIS_SENTINELS: list, REDIS_SENTINEL_NAME: name } = vars;
  if (vars.REDIS_CLUSTER_NODES) {
    const others = [
      url ? 'REDIS_URL' : undefined,
      list ? 'REDIS_SENTINELS' : undefined,
      name ? 'REDIS_SENTINEL_NAME' : undefined,
    ].filter((k) => k !== undefined);
    if (others.length > 0) {
      throw new ConfigError(
        `Invalid configuration: REDIS_CLUSTER_NODES excludes ${others.join(' and ')}: set one way to reach Redis`,
      );
    }
    return {
      cluster: hostPorts('REDIS_CLUSTER_NODES', vars.REDIS_CLUSTER_NODES),
      partitions: vars.REDIS_PUBSUB_PARTITIONS,
      slotsRefreshMs: Math.min(5000, Math.max(250, Math.floor(vars.HEARTBEAT_INTERVAL_MS / 4))),
    };
  }
  if (url && (list || name)) {
    throw new ConfigError(
      'Invalid configuration: set either REDIS_URL or REDIS_SENTINELS with REDIS_SENTINEL_NAME, not both',
    );
  }
  if (url) return { url };
  if (!list && !name) return undefined;
  if (!list || !name) {
    throw new ConfigError(
      `Invalid configuration: ${list ? 'REDIS_SENTINEL_NAME' : 'REDIS_SENTINELS'} is required with ${list ? 'REDIS_SENTINELS' : 'REDIS_SENTINEL_NAME'}`,
    );
  }
  return { sentinels: hostPorts('REDIS_SENTINELS', list), name };
}

/** `host:port,…` (already matched by its pattern) as a list; a port out of range names the key. */
function hostPorts(key: string, list: string): { host: string; port: number }[] {
  return list.split(',').map((entry) => {
    const at = entry.trim().lastIndexOf(':');
    const host = entry
      .trim()
      .slice(0, at)
      .replace(/^\[|\]$/g, '');
    const port = Number(entry.trim().slice(at + 1));
    if (port < 1 || port > 65535)
      throw new ConfigError(`Invalid configuration: ${key} port ${port} is out of range`);
    return { host, port };
  });
}

/** RS256 needs an RSA key, ES256 a P-256 one; anything else would fail on the first token, so fail at start. */
export function assertUsablePublicKey(pem: string): void {
  let type: string | undefined;
  let curve: string | undefined;
  try {
    const key = createPublicKey(pem);
    type = key.asymmetricKeyType;
    curve = key.asymmetricKeyDetails?.namedCurve;
  } catch {
    throw new ConfigError('Invalid configuration: JWT_PUBLIC_KEY must be a PEM public key');
  }
  if (type !== 'rsa' && !(type === 'ec' && curve === 'prime256v1')) {
    throw new ConfigError(
      'Invalid configuration: JWT_PUBLIC_KEY must be an RSA (RS256) or P-256 (ES256) key',
    );
  }
}

/** Standard Webhooks secret: `whsec_` + base64 (with padding) of at least 24 bytes. Never echoed. */
const WHSEC = /^whsec_((?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)$/;
export const WEBHOOK_SECRET_MIN_BYTES = 24;

export function assertWebhookSecret(secret: string): void {
  const base64 = WHSEC.exec(secret)?.[1];
  if (base64 === undefined || Buffer.from(base64, 'base64').length < WEBHOOK_SECRET_MIN_BYTES) {
    throw new ConfigError(
      `Invalid configuration: WEBHOOK_SECRET must be "whsec_" followed by the base64 of at least ${WEBHOOK_SECRET_MIN_BYTES} random bytes (npm run -s webhook-secret prints one)`,
    );
  }
}

/** Both files or neither; each a readable PEM, and the key the certificate's. Throws a ConfigError naming the key. */
export function loadTls(certFile?: string, keyFile?: string): TlsFiles | undefined {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    const [set, missing] =
      certFile === undefined
        ? ['TLS_KEY_FILE', 'TLS_CERT_FILE']
        : ['TLS_CERT_FILE', 'TLS_KEY_FILE'];
    throw new ConfigError(`Invalid configuration: ${missing} is required when ${set} is set`);
  }
  const cert = readPem('TLS_CERT_FILE', certFile);
  const key = readPem('TLS_KEY_FILE', keyFile);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    throw new ConfigError(
      `Invalid configuration: TLS_CERT_FILE ${certFile} holds no PEM certificate`,
    );
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new ConfigError(
      `Invalid configuration: TLS_KEY_FILE ${keyFile} holds no PEM private key`,
    );
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new ConfigError(
      `Invalid configuration: TLS_KEY_FILE ${keyFile} is not the key of the certificate in TLS_CERT_FILE`,
    );
  }
  return { certFile, keyFile, cert, key };
}

function readPem(name: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`Invalid configuration: ${name} ${file} cannot be read (${code})`);
  }
}

/** TRUSTED_PROXIES: a comma list of addresses (`10.0.0.5`, `::1`) or CIDRs (`10.0.0.0/8`, `fd00::/8`). */
export function trustedProxies(list: string | undefined): string[] | undefined {
  const entries = list
    ?.split(',')
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  if (!entries || entries.length === 0) return undefined;
  for (const entry of entries) {
    const [address, prefix, extra] = entry.split('/');
    const family = isIP(address);
    const bits = family === 4 ? 32 : 128;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (family === 0 || !prefixOk || extra !== undefined) {
      throw new ConfigError(
        `Invalid configuration: TRUSTED_PROXIES must be a comma list of addresses or CIDRs, got "${entry}"`,
      );
    }
  }
  return entries;
}

/** Shortest API_KEY and METRICS_TOKEN production accepts: a short key is guessed, throttling or not. */
export const PRODUCTION_KEY_MIN_CHARS = 32;

/** NODE_ENV=production: API_KEY and METRICS_TOKEN, when set, have at least PRODUCTION_KEY_MIN_CHARS characters. */
export function assertProductionKeys(vars: EnvironmentVariables): void {
  for (const key of ['API_KEY', 'METRICS_TOKEN'] as const) {
    const value = vars[key];
    if (value !== undefined && value.length < PRODUCTION_KEY_MIN_CHARS) {
      throw new ConfigError(
        `Invalid configuration: ${key} must be at least ${PRODUCTION_KEY_MIN_CHARS} characters when NODE_ENV=production`,
      );
    }
  }
}
