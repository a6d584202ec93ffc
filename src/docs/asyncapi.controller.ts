import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { buildAsyncApiDocument } from './asyncapi';

/** GET /asyncapi.json: the AsyncAPI 3 document of the socket protocol (public, like the protocol itself). */
@ApiExcludeController()
@Controller()
export class AsyncApiController {
  private readonly document = buildAsyncApiDocument();

  @Get('asyncapi.json')
  @Header('Cache-Control', 'no-cache')
  asyncapi(): Record<string, unknown> {
    return this.document;
  }
}
