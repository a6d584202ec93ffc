import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { jwtClaims } from '../support/jwt';

const run = promisify(execFile);
const SCRIPT = resolve(__dirname, '..', '..', 'scripts', 'token.mjs');
const SECRET = 'a-secret-for-the-token-script-test-0123456789';

/** `npm run token -- <userId>` prints a token the server accepts: signed with JWT_SECRET from env or .env. */
describe('npm run token', () => {
  const node = (args: string[], env: Record<string, string>, cwd = tmpdir()) =>
    run(process.execPath, [SCRIPT, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...env },
    });

  it('prints an HS256 token for the user, signed with JWT_SECRET, valid for 24 h', async () => {
    const { stdout } = await node(['alice', '--name', 'Alice', '--roles', 'admin'], {
      JWT_SECRET: SECRET,
    });
    const token = stdout.trim();
    const claims = jwtClaims(token);
    expect(claims).toMatchObject({ sub: 'alice', name: 'Alice', roles: ['admin'] });
    expect(claims.exp - claims.iat).toBe(86400);
    const [header, payload, signature] = token.split('.');
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({
      alg: 'HS256',
      typ: 'JWT',
    });
    expect(signature).toBe(
      createHmac('sha256', SECRET).update(`${header}.${payload}`).digest('base64url'),
    );
  });

  it('reads JWT_SECRET from .env in the working directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hubbub-token-'));
    writeFileSync(join(dir, '.env'), `JWT_SECRET=${SECRET}\nJWT_ISSUER=hubbub-test\n`);
    const { stdout } = await node(['bob'], {}, dir);
    expect(jwtClaims(stdout.trim())).toMatchObject({ sub: 'bob', iss: 'hubbub-test' });
  });

  it('refuses to sign without JWT_SECRET and says how to get one', async () => {
    await expect(node(['carol'], {})).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('JWT_SECRET'),
    });
  });

  it('adds publish and subscribe claims from --publish and --subscribe', async () => {
    const { stdout } = await node(
      ['dave', '--publish', 'news.*,demo', '--subscribe', 'private:*'],
      {
        JWT_SECRET: SECRET,
      },
    );
    expect(jwtClaims(stdout.trim())).toMatchObject({
      sub: 'dave',
      publish: ['news.*', 'demo'],
      subscribe: ['private:*'],
    });
  });

  it('--help prints the usage and exits 0; an unknown option is one line and the usage, no stack', async () => {
    const help = await node(['--help'], {});
    expect(help.stdout).toMatch(/^usage: npm run token -- <userId>/);
    expect(help.stdout).toContain('--subscribe');
    await expect(node(['erin', '--bogus'], { JWT_SECRET: SECRET })).rejects.toMatchObject({
      code: 2,
      stderr: expect.not.stringMatching(/TypeError|\n\s+at /),
    });
  });
});
