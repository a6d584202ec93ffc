import { Controller, Get, Param, UseGuards, UsePipes } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { RoomUnread } from '../chat/read-markers';
import { UnreadService } from '../chat/unread.service';
import { httpValidationPipe } from '../http/http-validation.pipe';
import { ApiKeyGuard } from './api-key.guard';
import { UserParams } from './api.dto';
import { UnreadResponse } from './unread-api.dto';

/** The server API's view of a user's read markers and unread counts (what `chat.unread` answers the user). */
@Controller('api')
@UseGuards(ThrottlerGuard, ApiKeyGuard)
@UsePipes(httpValidationPipe)
export class UnreadApiController {
  constructor(private readonly unread: UnreadService) {}

  @Get('users/:userId/unread')
  @ApiOperation({ summary: "A user's rooms with their read marker and unread counts" })
  @ApiOkResponse({ type: UnreadResponse })
  @ApiBadRequestResponse({ description: 'Invalid user id' })
  async rooms(@Param() { userId }: UserParams): Promise<{ rooms: RoomUnread[] }> {
    return { rooms: await this.unread.unread(userId) };
  }
}
