import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Hubbub's version from its package.json, found next to the code whether it runs from `src/admin` (ts-jest),
 * `dist/admin` or `dist/src/admin`; "unknown" when there is none (a bundled copy, say).
 */
export function packageVersion(): string {
  for (const dir of [join(__dirname, '../..'), join(__dirname, '../../..'), process.cwd()]) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    try {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'hubbub' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not ours, or unreadable: look further
    }
  }
  return 'unknown';
}
