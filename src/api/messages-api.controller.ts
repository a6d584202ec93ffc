import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  ForbiddenException,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Patch,
  Query,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { ChatEditsService } from '../chat/chat-edits.service';
import { httpValidationPipe } from '../http/http-validation.pipe';
import { HubbubError } from '../protocol/errors';
import type { StoredMessage } from '../store/message-store';
import { RoomParams } from './api.dto';
import { ApiKeyGuard } from './api-key.guard';
import { EditMessageBody, MessageParams, SearchQueryParams } from './messages-api.dto';

/**
 * The server API's side of the chat lifecycle: edit and delete any message (as `server`), search a room. The
 * changes are pushed, announced and sent as webhooks as when a user makes them.
 */
@Controller('api')
@UseGuards(ThrottlerGuard, ApiKeyGuard)
@UsePipes(httpValidationPipe)
export class MessagesApiController {
  constructor(private readonly chat: ChatEditsService) {}

  @Patch('rooms/:room/messages/:seq')
  async edit(
    @Param() { room, seq }: MessageParams,
    @Body() { text }: EditMessageBody,
  ): Promise<{ message: StoredMessage }> {
    return { message: await http(this.chat.edit(undefined, room, seq, text)) };
  }

  @Delete('rooms/:room/messages/:seq')
  @HttpCode(204)
  async delete(@Param() { room, seq }: MessageParams): Promise<void> {
    await http(this.chat.delete(undefined, room, seq));
  }

  @Get('rooms/:room/search')
  async search(
    @Param() { room }: RoomParams,
    @Query() query: SearchQueryParams,
  ): Promise<{ messages: StoredMessage[]; more: boolean }> {
    const { messages, more } = await http(this.chat.search(undefined, { room, ...query }));
    return { messages, more };
  }
}

/** The service's HubbubErrors as HTTP answers (400 with the field errors, 403, 404). */
async function http<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (e) {
    if (!(e instanceof HubbubError)) throw e;
    if (e.code === 'not_found') throw new NotFoundException(e.message);
    if (e.code === 'forbidden') throw new ForbiddenException(e.message);
    if (e.code === 'validation_failed') {
      const fields = (e.details ?? []) as { errors: string[] }[];
      throw new BadRequestException(fields.flatMap((f) => f.errors));
    }
    throw e;
  }
}
