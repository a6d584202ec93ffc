/**
 * Claim globs: `*` matches any run of characters, `?` one character; everything else is literal.
 *
 * Matched without regular expressions or backtracking. A glob is split at its stars into literal-with-`?` pieces;
 * the first piece must match at the start, the last at the end, and each piece in between is taken at its EARLIEST
 * place after the previous one. Earliest is always right for globs (a later place only leaves less room for what
 * follows), so the scan never goes back: the name is read once per piece, O(name × pieces) at worst (linear in the
 * glob for a bounded name), where the regex this replaces took seconds on `*a*a*a*a*b` against 120 `a`s.
 */
interface CompiledGlob {
  /** The pieces between stars; a glob without a star has exactly one. */
  pieces: string[];
}

const cache = new Map<string, CompiledGlob>();

function compile(glob: string): CompiledGlob {
  let compiled = cache.get(glob);
  if (!compiled) {
    compiled = { pieces: glob.split('*') };
    if (cache.size > 10_000) cache.clear();
    cache.set(glob, compiled);
  }
  return compiled;
}

/** Whether `piece` (literal, `?` = any one character) matches `name` at `at`. */
function pieceAt(piece: string, name: string, at: number): boolean {
  if (at + piece.length > name.length) return false;
  for (let i = 0; i < piece.length; i++) {
    const p = piece.charCodeAt(i);
    if (p !== 0x3f /* ? */ && p !== name.charCodeAt(at + i)) return false;
  }
  return true;
}

/** Earliest index >= from where `piece` matches, or -1. */
function findPiece(piece: string, name: string, from: number): number {
  if (!piece.includes('?')) return name.indexOf(piece, from);
  for (let at = from; at + piece.length <= name.length; at++) {
    if (pieceAt(piece, name, at)) return at;
  }
  return -1;
}

export function globMatch(glob: string, name: string): boolean {
  const { pieces } = compile(glob);
  const first = pieces[0];
  if (pieces.length === 1) return first.length === name.length && pieceAt(first, name, 0);
  const last = pieces[pieces.length - 1];
  // The first piece anchors the start, the last the end; they may not overlap.
  if (first.length + last.length > name.length) return false;
  if (!pieceAt(first, name, 0) || !pieceAt(last, name, name.length - last.length)) return false;
  let at = first.length;
  const end = name.length - last.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const piece = pieces[i];
    if (piece.length === 0) continue;
    const found = findPiece(piece, name, at);
    if (found < 0 || found + piece.length > end) return false;
    at = found + piece.length;
  }
  return true;
}

export function anyGlobMatches(globs: readonly string[], name: string): boolean {
  return globs.some((g) => globMatch(g, name));
}
