import { IsDefined, IsNotEmpty, IsString } from 'class-validator';

export class RefreshDto {
  @IsString() @IsNotEmpty() token!: string;
}

export class BroadcastDto {
  @IsDefined() data!: unknown;
}
