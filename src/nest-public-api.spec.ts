import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
const DIRS = ['src', 'test', 'scripts', 'examples/team-app/src', 'examples/team-app/test'];

function files(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : files(path);
    return /\.(ts|mjs|js)$/.test(entry.name) ? [path] : [];
  });
}

/**
 * The subpaths a package lists as public: its `exports` keys, without wildcards (`./*` lets anything through,
 * public or not) and without `./internal` (Nest's own "not part of the public API").
 */
function publicSubpaths(pkg: string): Set<string> {
  const manifest = JSON.parse(
    readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8'),
  ) as { exports?: Record<string, unknown> };
  const keys = Object.keys(manifest.exports ?? { '.': '' });
  return new Set(keys.filter((k) => !k.includes('*') && k !== './internal'));
}

describe("Nest's public API only", () => {
  const sources = DIRS.flatMap((dir) => files(join(ROOT, dir)));

  it('imports no path under @nestjs/* that the package does not export as public', () => {
    const deep: string[] = [];
    for (const file of sources) {
      const text = readFileSync(file, 'utf8');
      for (const [, pkg, sub] of text.matchAll(
        /(?:from\s+|import\(|require\()'(@nestjs\/[a-z-]+)(\/[^']*)?'/g,
      )) {
        if (sub && !publicSubpaths(pkg).has(`.${sub}`)) {
          deep.push(`${relative(ROOT, file)}: ${pkg}${sub}`);
        }
      }
    }
    expect(deep).toEqual([]);
  });

  it('assigns no prototype member, directly or through an alias (no class of Nest is patched)', () => {
    const member = '(\\.\\w+|\\[[^\\]]+\\])\\s*=[^=]';
    const assigns = (text: string): boolean => {
      if (new RegExp(`\\.prototype${member}`).test(text)) return true;
      const aliases = [...text.matchAll(/(\w+)\s*=\s*(?:\(\s*)?[\w.]+\.prototype\b/g)].map(
        (m) => m[1],
      );
      return aliases.some((alias) => new RegExp(`\\b${alias}${member}`).test(text));
    };
    const patched = sources
      .filter((file) => !file.endsWith('.spec.ts') && assigns(readFileSync(file, 'utf8')))
      .map((file) => relative(ROOT, file));
    expect(patched).toEqual([]);
  });
});
