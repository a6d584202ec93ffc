import { IsName } from '../protocol/names';

/** `chat.unread` takes no field (an empty object). */
export class UnreadDto {}

export class ForgetDto {
  @IsName() room!: string;
}
