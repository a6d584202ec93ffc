import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { HubbubError, type FieldError } from '../protocol/errors';

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

/** class-validator for message DTOs, failing with the contract's `validation_failed` and field details. */
export function createWsValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidUnknownValues: false,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) =>
      new HubbubError('validation_failed', 'Validation failed', flattenValidationErrors(errors)),
  });
}
