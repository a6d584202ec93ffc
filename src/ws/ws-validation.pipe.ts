import {
  ValidationPipe,
  type ArgumentMetadata,
  type ValidationError,
  type ValidationPipeOptions,
} from '@nestjs/common';
import { getMetadataStorage, ValidationError as ClassValidationError } from 'class-validator';
import { HubbubError, type FieldError } from '../protocol/errors';
import { illFormedString, NOT_WELL_FORMED } from '../protocol/validators';
import { quickCheckOf } from './dto-fast-check';

/** Flattens class-validator's tree into `{field: 'a.b', errors: [...]}` entries. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const error of errors) {
    const field = parent ? `${parent}.${error.property}` : error.property;
    if (error.constraints) out.push({ field, errors: Object.values(error.constraints) });
    if (error.children?.length) out.push(...flattenValidationErrors(error.children, field));
  }
  return out;
}

/** What Nest's ValidationPipe does not validate (its `toValidate`). */
const PLAIN_TYPES = new Set<unknown>([String, Boolean, Number, Array, Object, Buffer, Date]);

type DtoClass = abstract new (...args: never[]) => unknown;

const declaredKeys = new WeakMap<object, readonly string[]>();

/** The properties a DTO class declares validation rules for, read once per class. */
function keysOf(metatype: abstract new (...args: never[]) => unknown): readonly string[] {
  let keys = declaredKeys.get(metatype);
  if (!keys) {
    const rules = getMetadataStorage().getTargetValidationMetadatas(metatype, '', true, false);
    keys = [...new Set(rules.map((rule) => rule.propertyName))];
    declaredKeys.set(metatype, keys);
  }
  return keys;
}

/**
 * Nest's ValidationPipe, fed only the keys the DTO declares. `whitelist` alone strips unknown keys AFTER
 * class-transformer has copied them (recursively: a deep value under an unknown key used to overflow the stack),
 * so they are dropped before it runs: an unknown key costs nothing and is never converted.
 */
export class DeclaredKeysValidationPipe extends ValidationPipe {
  constructor(options: ValidationPipeOptions) {
    super({ ...options, whitelist: true });
  }

  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const { metatype } = metadata;
    // No DTO class (a handler without a typed body, the client socket, a custom decorator): nothing to validate or
    // transform, which Nest's pipe would also conclude, after building its validation context.
    const messageArg = metadata.type === 'body' || metadata.type === 'custom';
    if (messageArg && (!metatype || metadata.type === 'custom' || PLAIN_TYPES.has(metatype))) {
      return Promise.resolve(value);
    }
    if (
      typeof metatype === 'function' &&
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value)
    ) {
      const keys = keysOf(metatype as abstract new (...args: never[]) => unknown);
      if (keys.length > 0) {
        const plain: Record<string, unknown> = {};
        for (const key of keys) {
          if (Object.hasOwn(value, key)) plain[key] = (value as Record<string, unknown>)[key];
        }
        value = plain;
      }
      // Every string the DTO receives, in any field, nested or not: well-formed Unicode (CONTRACT section 4).
      const field = illFormedString(value, '');
      if (field !== undefined) throw this.exceptionFactory([notWellFormed(field)]) as Error;
      // Most messages pass: the quick check says so without class-validator's per-call work (dto-fast-check.ts),
      // and the DTO is made as class-transformer makes it for these classes (no transform decorators on them).
      const quick = metatype.length === 0 ? quickCheckOf(metatype as DtoClass) : null;
      if (quick?.(value as Record<string, unknown>)) {
        return Promise.resolve(Object.assign(new (metatype as new () => object)(), value));
      }
    }
    return super.transform(value, metadata) as Promise<unknown>;
  }
}

function notWellFormed(field: string): ClassValidationError {
  const error = new ClassValidationError();
  error.property = field;
  error.constraints = { isWellFormed: `${field} ${NOT_WELL_FORMED}` };
  error.children = [];
  return error;
}

/** class-validator for message DTOs, failing with the contract's `validation_failed` and field details. */
export function createWsValidationPipe(): ValidationPipe {
  return new DeclaredKeysValidationPipe({
    transform: true,
    forbidUnknownValues: false,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) =>
      new HubbubError('validation_failed', 'Validation failed', flattenValidationErrors(errors)),
  });
}
