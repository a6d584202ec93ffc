import {
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  StreamableFile,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
} from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { httpValidationPipe } from '../http/http-validation.pipe';
import { UserErasureService } from '../privacy/user-erasure.service';
import { UserExportService } from '../privacy/user-export.service';
import { ApiKeyGuard } from './api-key.guard';
import { UserParams } from './api.dto';
import { UserExportResponse } from './privacy-api.dto';

/** The data of a person (server API): export it, or erase it, on every instance and in the store. */
@Controller('api')
@UseGuards(ThrottlerGuard, ApiKeyGuard)
@UsePipes(httpValidationPipe)
export class PrivacyApiController {
  constructor(
    private readonly exports: UserExportService,
    private readonly erasures: UserErasureService,
  ) {}

  @Get('users/:userId/export')
  @ApiOperation({
    summary:
      'Export every message, read marker, reaction, role and presence of a user (streamed JSON)',
  })
  @ApiProduces('application/json')
  @ApiOkResponse({ type: UserExportResponse })
  @ApiBadRequestResponse({ description: 'Invalid user id' })
  export(@Param() { userId }: UserParams): StreamableFile {
    return new StreamableFile(this.exports.stream(userId), {
      type: 'application/json; charset=utf-8',
      disposition: 'attachment; filename="user-export.json"',
    });
  }

  @Delete('users/:userId')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Erase a user: connections closed (4403), messages kept as deleted tombstones, reactions, read markers, roles and presence removed, on every instance; webhook user.erased',
  })
  @ApiAcceptedResponse({
    description:
      'Erased (or still erasing after 10 s: the erasure is journaled and finishes, also across a restart)',
  })
  @ApiBadRequestResponse({ description: 'Invalid user id' })
  async erase(@Param() { userId }: UserParams): Promise<object> {
    await this.erasures.erase(userId);
    return {};
  }
}
