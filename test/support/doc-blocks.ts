import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Fenced code blocks of the README and docs/, with the marker on the line before each (docs/README: "Commands in
 * the docs"): `<!-- example -->` (shown, not run) or `<!-- tested: <id> -->` (a test runs it, finding it by id
 * with {@link docBlock}).
 */
export const REPO = resolve(__dirname, '..', '..');

export interface DocBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  body: string;
  marker?: { kind: 'example' } | { kind: 'tested'; id: string };
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/;
const MARKER = /^<!--\s*(example|tested:\s*([\w.-]+))\s*-->\s*$/;

export function docBlocks(file: string): DocBlock[] {
  const lines = readFileSync(join(REPO, file), 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    const fence = open[2];
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i].trim().startsWith(fence); i++) body.push(lines[i]);
    let before = start - 1;
    while (before >= 0 && lines[before].trim() === '') before--;
    const marked = before >= 0 ? MARKER.exec(lines[before].trim()) : null;
    blocks.push({
      file,
      line: start + 1,
      lang: open[3].toLowerCase(),
      body: body.join('\n'),
      marker: marked
        ? marked[2]
          ? { kind: 'tested', id: marked[2] }
          : { kind: 'example' }
        : undefined,
    });
  }
  return blocks;
}

/** The block marked `<!-- tested: <id> -->` in `file`; throws when there is none, so a renamed block fails its test. */
export function docBlock(file: string, id: string): string {
  const block = docBlocks(file).find((b) => b.marker?.kind === 'tested' && b.marker.id === id);
  if (!block) throw new Error(`${file} has no block marked <!-- tested: ${id} -->`);
  return block.body;
}
