import leven from 'leven';
import { parseEnv } from 'node:util';
import { KNOWN_KEYS } from './config';

/**
 * Keys a `.env` may hold that Hubbub itself does not read but its tools do (the tests, the token script, Node).
 * Any other unknown key is most likely a typo (`PROT=4142`), named in one warning line.
 */
const TOOL_KEYS = new Set([
  'TEST_REDIS_URL',
  'TEST_DATABASE_URL',
  'REQUIRE_SERVICES',
  'OLD_NODE',
  'HUBBUB_BROWSER_TESTS',
  'NODE_OPTIONS',
  'TZ',
]);

const ALL_KEYS = [...new Set([...KNOWN_KEYS, 'DEV_TOKENS', 'JWT_SECRET', 'JWT_PUBLIC_KEY'])];

/** One warning line per key of a `.env` file's text that Hubbub does not know, with the closest known key. */
export function envFileWarnings(text: string, known: readonly string[] = ALL_KEYS): string[] {
  const warnings: string[] = [];
  // In the file's order (parseEnv's object does not keep it for every key).
  const at = (key: string): number =>
    text.search(new RegExp(`^[ \\t]*(?:export[ \\t]+)?${escape(key)}[ \\t]*=`, 'm'));
  const keys = Object.keys(parseEnv(text)).sort((a, b) => at(a) - at(b));
  for (const key of keys) {
    if (known.includes(key) || TOOL_KEYS.has(key) || key.startsWith('OTEL_')) continue;
    warnings.push(
      `.env: ${key} is not a Hubbub key and is ignored; did you mean ${closestKey(key, known)}?`,
    );
  }
  return warnings;
}

/** The known key at the smallest Levenshtein distance (case-insensitive; the first in `known` on a tie). */
export function closestKey(key: string, known: readonly string[]): string {
  let best = { key: known[0], distance: Infinity };
  for (const candidate of known) {
    const distance = leven(key.toUpperCase(), candidate);
    if (distance < best.distance) best = { key: candidate, distance };
  }
  return best.key;
}

const escape = (key: string): string => key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
