import { Body, Controller, HttpCode, Inject, NotFoundException, Post, UsePipes } from '@nestjs/common';
import { IsOptional, IsString, Length } from 'class-validator';
import { TokenVerifier } from '../auth/token-verifier';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { httpValidationPipe } from '../http/http-validation.pipe';

export class DevTokenDto {
  @IsString() @Length(1, 128) userId!: string;
  @IsOptional() @IsString() @Length(1, 128) name?: string;
}

const DEV_TOKEN_TTL_SEC = 24 * 3600;

/** Tokens for local trials. Off in production (the configuration refuses DEV_TOKENS there). */
@Controller('dev')
@UsePipes(httpValidationPipe)
export class DevTokenController {
  constructor(
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    private readonly verifier: TokenVerifier,
  ) {}

  @Post('token')
  @HttpCode(201)
  async token(@Body() body: DevTokenDto): Promise<{ token: string }> {
    if (!this.config.devTokens || this.verifier.algorithm !== 'HS256') throw new NotFoundException();
    return { token: await this.verifier.sign({ sub: body.userId, name: body.name }, DEV_TOKEN_TTL_SEC) };
  }
}
