#!/usr/bin/env node
// Prints a client token: `npm run token -- <userId> [--name N] [--roles admin,x] [--rooms 'private:*'] [--publish 'news.*'] [--subscribe 'private:*'] [--ttl 86400]`.
// Signs HS256 with JWT_SECRET from the environment or .env, and adds JWT_ISSUER / JWT_AUDIENCE when set.
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';

if (existsSync('.env')) process.loadEnvFile('.env');

const USAGE = `usage: npm run token -- <userId> [options]
  --name <display name>    the name claim
  --roles <a,b>            roles (admin may publish and subscribe anywhere, and broadcast)
  --rooms <globs>          private: rooms the user may join, e.g. 'private:*'
  --publish <globs>        channels the user may publish to, e.g. 'news.*'
  --subscribe <globs>      private: channels the user may subscribe to, e.g. 'private:*'
  --ttl <seconds>          lifetime (default 86400)
  -h, --help               this text
Signs HS256 with JWT_SECRET from the environment or .env.`;

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      roles: { type: 'string' },
      rooms: { type: 'string' },
      publish: { type: 'string' },
      subscribe: { type: 'string' },
      ttl: { type: 'string', default: '86400' },
      help: { type: 'boolean', short: 'h' },
    },
  });
} catch (err) {
  // An unknown option or a missing value: one line and the usage, no stack.
  console.error(`${err.message}\n${USAGE}`);
  process.exit(2);
}
const { values, positionals } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const [userId] = positionals;
if (!userId) {
  console.error(USAGE);
  process.exit(2);
}
if (!/^[1-9]\d*$/.test(values.ttl)) {
  console.error(`--ttl must be a whole number of seconds, got ${values.ttl}`);
  process.exit(2);
}
const secret = process.env.JWT_SECRET;
if (!secret) {
  console.error('JWT_SECRET is not set (environment or .env). Without it the server makes a random key at each start;');
  console.error('set JWT_SECRET in .env for both, or use POST /dev/token against the running server.');
  process.exit(2);
}

const list = (v) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined);
const now = Math.floor(Date.now() / 1000);
const payload = {
  sub: userId,
  iat: now,
  exp: now + Number(values.ttl),
  ...(values.name && { name: values.name }),
  ...(list(values.roles) && { roles: list(values.roles) }),
  ...(list(values.rooms) && { rooms: list(values.rooms) }),
  ...(list(values.publish) && { publish: list(values.publish) }),
  ...(list(values.subscribe) && { subscribe: list(values.subscribe) }),
  ...(process.env.JWT_ISSUER && { iss: process.env.JWT_ISSUER }),
  ...(process.env.JWT_AUDIENCE && { aud: process.env.JWT_AUDIENCE }),
};
const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
const signature = createHmac('sha256', secret).update(unsigned).digest('base64url');
console.log(`${unsigned}.${signature}`);
