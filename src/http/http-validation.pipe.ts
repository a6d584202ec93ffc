import { DeclaredKeysValidationPipe } from '../ws/ws-validation.pipe';

/** HTTP bodies: Nest's ValidationPipe as users know it (400 with the field messages). Applied per controller so
 * that it never runs in front of the WebSocket pipe, which answers in the contract's error shape instead. */
export const httpValidationPipe = new DeclaredKeysValidationPipe({
  transform: true,
  // One message per field (the first rule it breaks): a missing `userId` is not three near-identical lines.
  stopAtFirstError: true,
});
