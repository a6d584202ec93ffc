import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';

/**
 * The layout rules of docs/architecture.md, checked on every run: imports run one way (down the layers below),
 * no source file over 350 lines (the ws adapter under 120), and topic and Redis key spellings only in their
 * modules.
 */
const SRC = __dirname;

/** Lowest first. A file may import from its own layer or any layer below, never from above. */
const LAYERS: string[][] = [
  ['common', 'config', 'protocol', 'logging', 'auth', 'tracing'],
  [
    'broker',
    'quota',
    'store',
    'cluster',
    'presence/store',
    'channels/history',
    'channels/subscribers',
  ],
  ['events'],
  ['ws'],
  ['fanout', 'lifecycle', 'stream'],
  ['core', 'rooms', 'access', 'chat', 'channels', 'presence', 'privacy', 'moderation'],
  ['webhooks', 'metrics', 'admin'],
  ['api', 'health', 'dev', 'web', 'http', 'openapi', 'docs'],
  ['backends', '.'],
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(entry.name) && !/\.(spec|contract)\.ts$/.test(entry.name) ? [path] : [];
  });
}

/** The layer of a file: its longest matching folder prefix. */
function layerOf(file: string): { layer: number; folder: string } {
  const rel = relative(SRC, dirname(file)).replace(/\\/g, '/') || '.';
  let best = { layer: -1, folder: '' };
  LAYERS.forEach((folders, layer) => {
    for (const folder of folders) {
      const matches = folder === '.' ? rel === '.' : rel === folder || rel.startsWith(`${folder}/`);
      if (matches && folder.length > best.folder.length) best = { layer, folder };
    }
  });
  return best;
}

/** Source without comments, so that docs may mention what code may not spell. */
function code(file: string): string {
  return readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
}

const files = sourceFiles(SRC);

/** A twin: an exported class Memory…, Redis…, Postgres… or Sqlite… that extends its concept's abstract class. */
const TWIN_CLASS = /^export class (Memory|Redis|Postgres|Sqlite)([A-Z]\w*)\s+extends\b/gm;
const TWIN_FILE = /^(memory|redis|postgres|sqlite)-[a-z-]+\.ts$/;
const kebab = (name: string): string =>
  name.replace(/[A-Z]/g, (c, i: number) => (i ? '-' : '') + c.toLowerCase());

/** The folder of a file, relative to src/ (`.` for src/ itself). */
const folderOf = (file: string): string => relative(SRC, dirname(file)).replace(/\\/g, '/') || '.';

/** Folder → the other folders its files import from (type-only imports too: they are dependencies of meaning). */
function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of files) {
    const from = folderOf(file);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const [, spec] of code(file).matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
      const to = folderOf(resolve(dirname(file), spec) + '.ts');
      if (to !== from && !to.startsWith('..')) edges.add(to);
    }
  }
  return graph;
}

/** Every strongly connected group of two or more folders (Tarjan), each as `a -> b -> … -> a` sorted. */
function folderCycles(graph: Map<string, Set<string>>): string[] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1) groups.push(group.sort().join(' <-> '));
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return groups.sort();
}

describe('architecture', () => {
  it('places every source file in a layer', () => {
    expect(files.filter((f) => layerOf(f).layer < 0).map((f) => relative(SRC, f))).toEqual([]);
  });

  it('runs imports one way: nothing imports from a layer above its own', () => {
    const upward: string[] = [];
    for (const file of files) {
      const from = layerOf(file);
      for (const [, spec] of code(file).matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
        const target = resolve(dirname(file), spec) + '.ts';
        const to = layerOf(target);
        if (to.layer > from.layer) {
          upward.push(`${relative(SRC, file)} (${from.folder}) -> ${spec} (${to.folder})`);
        }
      }
    }
    expect(upward).toEqual([]);
  });

  it('has no import cycle between folders', () => {
    expect(folderCycles(folderGraph())).toEqual([]);
  });

  it('leaves the concrete backends to backends/: no instanceof of one elsewhere', () => {
    const downcasts = files
      .filter((f) => !relative(SRC, f).startsWith('backends'))
      .filter((f) => /\binstanceof\s+(Memory|Redis|Postgres|Sqlite)[A-Z]\w*/.test(code(f)))
      .map((f) => relative(SRC, f));
    expect(downcasts).toEqual([]);
  });

  it('keeps each twin in its own file beside its interface: <concept>.ts, then memory-, redis-, postgres-, sqlite-<concept>.ts', () => {
    const misplaced: string[] = [];
    for (const file of files) {
      const rel = relative(SRC, file).replace(/\\/g, '/');
      for (const [, kind, concept] of code(file).matchAll(TWIN_CLASS)) {
        const expected = `${kind.toLowerCase()}-${kebab(concept)}.ts`;
        const iface = join(dirname(file), `${kebab(concept)}.ts`);
        if (basename(file) !== expected)
          misplaced.push(`${rel}: ${kind}${concept} belongs in ${expected}`);
        else if (!existsSync(iface)) misplaced.push(`${rel}: no ${kebab(concept)}.ts beside it`);
      }
    }
    expect(misplaced).toEqual([]);
  });

  it('chooses backends only in backends/: no other file constructs a twin (a twin may wrap its own kind)', () => {
    const choosers = files
      .filter((f) => !relative(SRC, f).startsWith('backends'))
      .filter((f) => !TWIN_FILE.test(basename(f)))
      .filter((f) => /\bnew\s+(Memory|Redis|Postgres|Sqlite)[A-Z]\w*\s*\(/.test(code(f)))
      .map((f) => relative(SRC, f));
    expect(choosers).toEqual([]);
  });

  it('declares event listeners with @OnEvent: no listener added by hand outside events/', () => {
    const byHand = files
      .filter((f) => !relative(SRC, f).startsWith('events'))
      .filter((f) => /\.on\(\s*'(presence|chat|cluster|connection|command)\./.test(code(f)))
      .map((f) => relative(SRC, f));
    expect(byHand).toEqual([]);
  });

  it('keeps every source file under 350 lines and the ws adapter under 120', () => {
    const lines = (file: string): number => readFileSync(file, 'utf8').split('\n').length;
    const long = files.filter((f) => lines(f) > 350).map((f) => `${relative(SRC, f)}: ${lines(f)}`);
    expect(long).toEqual([]);
    expect(lines(join(SRC, 'ws', 'hubbub-ws.adapter.ts'))).toBeLessThan(120);
  });

  it('spells topics only in protocol/topics.ts and Redis keys only in cluster/redis-keys.ts', () => {
    const found: string[] = [];
    for (const file of files) {
      const rel = relative(SRC, file).replace(/\\/g, '/');
      const text = code(file);
      if (rel !== 'protocol/topics.ts' && /['`](room|chan|user|ctl):/.test(text)) found.push(rel);
      if (rel !== 'protocol/topics.ts' && /\btopic === 'all'|'all'\s*[,)]/.test(text))
        found.push(rel);
      if (rel !== 'cluster/redis-keys.ts' && /['`]hubbub:/.test(text)) found.push(rel);
    }
    expect(found).toEqual([]);
  });
});
