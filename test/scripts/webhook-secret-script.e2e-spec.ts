import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { loadConfig } from '../../src/config/config';

const run = promisify(execFile);
const REPO = resolve(__dirname, '..', '..');

/** `npm run -s webhook-secret` prints a fresh WEBHOOK_SECRET the server and the package both accept. */
describe('npm run -s webhook-secret', () => {
  it('prints only a whsec_ secret of 32 random bytes, different each run, that the server accepts', async () => {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const [a, b] = await Promise.all(
      [1, 2].map(() => run(npm, ['run', '-s', 'webhook-secret'], { cwd: REPO })),
    );
    const secret = a.stdout.trim();
    expect(a.stdout).toBe(`${secret}\n`);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(b.stdout.trim()).not.toBe(secret);

    const config = loadConfig({ WEBHOOK_URL: 'https://hooks.example/in', WEBHOOK_SECRET: secret });
    expect(config.webhookSecret).toBe(secret);
    const signer = new Webhook(secret);
    const at = new Date();
    const headers = {
      'webhook-id': 'evt_1',
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signer.sign('evt_1', at, '{}'),
    };
    expect(signer.verify('{}', headers)).toEqual({});
  });
});
