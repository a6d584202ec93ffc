import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { IsName } from '../protocol/names';

/** `?prefix&limit&cursor` of the cluster-wide listings. */
export class ListQuery {
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.:-]{0,128}$/, { message: 'prefix must match ^[A-Za-z0-9_.:-]{0,128}$' })
  prefix?: string;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;

  /** The `next` of the previous page. */
  @IsOptional() @IsName() cursor?: string;
}
