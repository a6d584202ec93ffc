import {
  Body,
  Controller,
  HttpCode,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  Post,
  UseGuards,
  UsePipes,
  type CanActivate,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { IsOptional, IsString, Length } from 'class-validator';
import { TokenVerifier } from '../auth/token-verifier';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { httpValidationPipe } from '../http/http-validation.pipe';
import { IsUserId, NoControlChars } from '../protocol/validators';

export class DevTokenDto {
  @IsString() @Length(1, 128) @IsUserId() userId!: string;
  @IsOptional() @IsString() @Length(1, 128) @NoControlChars() name?: string;
}

const DEV_TOKEN_TTL_SEC = 24 * 3600;

/** The route does not exist while dev tokens are off: 404 before the body is even validated. */
@Injectable()
class DevTokensEnabled implements CanActivate {
  constructor(
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    private readonly verifier: TokenVerifier,
  ) {}

  canActivate(): boolean {
    if (!this.config.devTokens || this.verifier.algorithm !== 'HS256')
      throw new NotFoundException();
    return true;
  }
}

/** Tokens for local trials. Off in production (the configuration refuses DEV_TOKENS there). */
@Controller('dev')
@UseGuards(ThrottlerGuard, DevTokensEnabled)
@UsePipes(httpValidationPipe)
export class DevTokenController implements OnApplicationBootstrap {
  constructor(
    private readonly verifier: TokenVerifier,
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
  ) {}

  /** One warning line at start while the route hands out tokens. */
  onApplicationBootstrap(): void {
    if (this.config.devTokens && this.verifier.algorithm === 'HS256') {
      new Logger('Hubbub').warn(
        'dev tokens are on: POST /dev/token signs a token for any user id; never let the network reach it',
      );
    }
  }

  @Post('token')
  @HttpCode(201)
  async token(@Body() body: DevTokenDto): Promise<{ token: string }> {
    return {
      token: await this.verifier.sign({ sub: body.userId, name: body.name }, DEV_TOKEN_TTL_SEC),
    };
  }
}
