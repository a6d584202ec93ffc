import { IsBoolean, IsOptional, IsString, Length, ValidateBy } from 'class-validator';
import { IsName } from '../protocol/names';
import { IsSafeInt, NoControlChars } from '../protocol/validators';

/** Longest reaction, in characters (code points: an emoji of several UTF-16 units is one character). */
export const MAX_REACTION_CHARS = 32;
/** Longest search query, in characters. */
export const MAX_QUERY_CHARS = 256;

/** A reaction: 1..32 characters (code points), no whitespace. */
const IsReaction = (): PropertyDecorator =>
  ValidateBy({
    name: 'isReaction',
    validator: {
      validate: (value) => {
        if (typeof value !== 'string') return false;
        const chars = [...value].length;
        return chars >= 1 && chars <= MAX_REACTION_CHARS && !/\s/u.test(value);
      },
      defaultMessage: () =>
        `reaction must be 1 to ${MAX_REACTION_CHARS} characters without whitespace`,
    },
  });

export class MessageRefDto {
  @IsName() room!: string;
  @IsSafeInt(1) seq!: number;
}

export class EditDto extends MessageRefDto {
  @IsString() @Length(1, 4000) @NoControlChars() text!: string;
}

export class ReactDto extends MessageRefDto {
  @IsReaction() @NoControlChars() reaction!: string;
  @IsBoolean() on!: boolean;
}

export class ReactionsDto extends MessageRefDto {
  @IsReaction() @NoControlChars() reaction!: string;
}

export class ThreadDto extends MessageRefDto {
  @IsOptional() @IsSafeInt(0) after?: number;
  @IsOptional() @IsSafeInt(1, 100) limit?: number;
}

export class SearchDto {
  @IsName() room!: string;
  @IsString() @Length(1, MAX_QUERY_CHARS) @NoControlChars() q!: string;
  @IsOptional() @IsSafeInt(1) before?: number;
  @IsOptional() @IsSafeInt(1, 50) limit?: number;
}
