import { Injectable } from '@nestjs/common';

/** Set once a shutdown begins: readiness answers 503 and handshakes are refused from then on. */
@Injectable()
export class DrainState {
  draining = false;
}
