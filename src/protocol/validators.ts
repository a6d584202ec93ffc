import { ValidateBy, type ValidationOptions } from 'class-validator';

/**
 * Validators every DTO shares, so that what passes validation is what every store accepts: PostgreSQL refuses
 * NUL in text and integers from 2^63 on, SQLite takes both; both now see neither.
 */

/** Highest sequence number or offset a client may name: the largest integer a JavaScript number holds exactly. */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** A safe integer (no 1e308, no 2^53, no 1.5) within [min, max]. */
export const IsSafeInt = (
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
  options?: ValidationOptions,
): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isSafeInt',
      constraints: [min, max],
      validator: {
        validate: (value) =>
          typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max,
        defaultMessage: (args) =>
          `${args?.property ?? 'value'} must be an integer from ${min} to ${max}`,
      },
    },
    options,
  );

/** C0 controls other than tab, line feed and carriage return (NUL first of all). */
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f]/;

export function hasForbiddenControl(text: string): boolean {
  return FORBIDDEN_CONTROL.test(text);
}

/** A string without NUL or other C0 control characters (tab, line feed and carriage return are allowed). */
export const NoControlChars = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'noControlChars',
      validator: {
        validate: (value) =>
          Array.isArray(value)
            ? value.every((v) => typeof v !== 'string' || !hasForbiddenControl(v))
            : typeof value !== 'string' || !hasForbiddenControl(value),
        defaultMessage: (args) =>
          `${args?.property ?? 'value'} must not contain control characters other than tab, line feed and carriage return`,
      },
    },
    options,
  );

/**
 * Characters a user id (`sub`) may not hold: C0 controls, DEL, C1 controls, bidi embeddings/overrides/isolates and
 * zero-width characters. Ids end up in topic names, log lines and other users' screens.
 */
const FORBIDDEN_IN_USER_ID =
  // eslint-disable-next-line no-control-regex
  /[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;

export function isValidUserId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= 128 &&
    value.isWellFormed() &&
    !FORBIDDEN_IN_USER_ID.test(value)
  );
}

/** 1..128 characters, none of them a control, bidi-override or zero-width character. */
export const IsUserId = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isUserId',
      validator: {
        validate: (value) => isValidUserId(value),
        defaultMessage: (args) =>
          `${args?.property ?? 'value'} must be 1..128 characters without control, bidi-override or zero-width characters`,
      },
    },
    options,
  );

/** Deepest nesting {@link illFormedString} looks into (frames and bodies are bounded at 32 levels before it). */
const MAX_WALK_DEPTH = 64;

/**
 * The path (`text`, `data.a.0`) of the first string, value or key, that is not well-formed Unicode (a lone
 * surrogate, which only a JSON `\uD800`-style escape can bring), or undefined when there is none. Such a string
 * cannot be stored as it was sent: SQLite and PostgreSQL both turn it into U+FFFD, so two different ids would
 * become one.
 */
export function illFormedString(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return value.isWellFormed() ? undefined : path;
  if (typeof value !== 'object' || value === null || depth >= MAX_WALK_DEPTH) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = illFormedString(value[i], `${path}.${i}`, depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (!key.isWellFormed()) return path;
    const found = illFormedString(
      (value as Record<string, unknown>)[key],
      path ? `${path}.${key}` : key,
      depth + 1,
    );
    if (found !== undefined) return found;
  }
  return undefined;
}

export const NOT_WELL_FORMED = 'must be well-formed Unicode (no lone surrogate)';
