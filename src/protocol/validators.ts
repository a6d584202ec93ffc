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
