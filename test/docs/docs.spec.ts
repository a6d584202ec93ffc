import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { docBlocks, REPO } from '../support/doc-blocks';

/**
 * The README and docs/ stay true to the repository: every shell block a reader would copy is either run by a test
 * (`<!-- tested: <id> -->` before it, and a test that loads it with docBlock(file, '<id>')) or marked as an example
 * (`<!-- example -->`); every relative link reaches a file, and every `#anchor` a heading of its page.
 */
const DOCS = [
  'README.md',
  ...readdirSync(join(REPO, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const SHELL = new Set(['sh', 'bash', 'shell', 'console', 'zsh']);

/** Every test source, for finding who runs a tested block. */
function testSources(dir = join(REPO, 'test')): string {
  return readdirSync(dir, { withFileTypes: true })
    .map((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return testSources(path);
      return entry.name.endsWith('.ts') ? readFileSync(path, 'utf8') : '';
    })
    .join('\n');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = !fenced && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = heading[1]
      .replace(/`/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const [, id] of markdown.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) anchors.add(id);
  return anchors;
}

/** `[text](target)` links outside fenced blocks and inline code. */
function linksOf(markdown: string): { target: string; line: number }[] {
  const links: { target: string; line: number }[] = [];
  let fenced = false;
  markdown.split('\n').forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) return;
    const prose = line.replace(/`[^`]*`/g, '');
    for (const [, target] of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g))
      links.push({ target, line: i + 1 });
  });
  return links;
}

describe('docs', () => {
  const tests = testSources();

  it.each(DOCS)('%s: every shell block is run by a test or marked as an example', (file) => {
    const unmarked: string[] = [];
    const untested: string[] = [];
    for (const block of docBlocks(file)) {
      if (!SHELL.has(block.lang)) continue;
      if (!block.marker) unmarked.push(`${file}:${block.line}`);
      else if (block.marker.kind === 'tested' && !tests.includes(`'${block.marker.id}'`))
        untested.push(`${file}:${block.line} (${block.marker.id})`);
    }
    expect({ unmarked, untested }).toEqual({ unmarked: [], untested: [] });
  });

  it('finds every block marked tested in some test', () => {
    const ids = DOCS.flatMap((file) =>
      docBlocks(file).flatMap((b) => (b.marker?.kind === 'tested' ? [b.marker.id] : [])),
    );
    expect(ids.filter((id) => !tests.includes(`'${id}'`))).toEqual([]);
  });

  it.each(DOCS)('%s: relative links and anchors resolve', (file) => {
    const broken: string[] = [];
    const text = readFileSync(join(REPO, file), 'utf8');
    for (const { target, line } of linksOf(text)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      const [path, anchor] = target.split('#', 2);
      const resolved = path
        ? join(dirname(join(REPO, file)), decodeURIComponent(path))
        : join(REPO, file);
      if (!existsSync(resolved)) {
        broken.push(`${file}:${line} ${target} (no ${relative(REPO, resolved)})`);
        continue;
      }
      if (anchor === undefined || !resolved.endsWith('.md') || statSync(resolved).isDirectory())
        continue;
      if (!anchorsOf(readFileSync(resolved, 'utf8')).has(decodeURIComponent(anchor).toLowerCase()))
        broken.push(`${file}:${line} ${target} (no heading #${anchor})`);
    }
    expect(broken).toEqual([]);
  });

  it('computes anchors the way GitHub does', () => {
    expect([
      ...anchorsOf('# A `b` c!\n## Redis Sentinel\n## Redis Sentinel\n```\n# not a heading\n```'),
    ]).toEqual(['a-b-c', 'redis-sentinel', 'redis-sentinel-1']);
  });
});
