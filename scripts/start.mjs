#!/usr/bin/env node
// `npm start`: runs the compiled server (dist/main.js), building it first only when it is missing or older than
// any source file or build setting. A warm start skips the TypeScript compiler entirely (`nest start` runs it
// every time, about 10 s). `npm run start:dev` watches and rebuilds instead.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
// Only what Node.js 20 has too: an import that an old Node.js lacks fails before the version check can speak.
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const REQUIRED = 24;
if (Number(process.versions.node.split('.')[0]) < REQUIRED) {
  console.error(`Hubbub needs Node.js ${REQUIRED} or newer; this is Node.js ${process.versions.node}. Install Node.js ${REQUIRED} LTS (see .nvmrc) and try again.`);
  process.exit(1);
}

const root = resolve(import.meta.dirname, '..');
const main = join(root, 'dist', 'main.js');
const inputs = ['src', 'tsconfig.json', 'tsconfig.build.json', 'nest-cli.json', 'package.json'];

/** Newest modification time under these paths (directories count too: a deleted file changes its folder). */
function newest(paths) {
  let latest = 0;
  for (const path of paths) {
    if (!existsSync(path)) continue;
    const stat = statSync(path);
    latest = Math.max(latest, stat.mtimeMs);
    if (stat.isDirectory()) latest = Math.max(latest, newest(readdirSync(path).map((name) => join(path, name))));
  }
  return latest;
}

const fresh = existsSync(main) && statSync(main).mtimeMs >= newest(inputs.map((p) => join(root, p)));
if (!fresh) {
  console.log(existsSync(main) ? 'sources changed: building (nest build)…' : 'first start: building (nest build)…');
  const nest = createRequire(join(root, 'package.json')).resolve('@nestjs/cli/bin/nest.js');
  const build = spawnSync(process.execPath, [nest, 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

// Node's on-disk cache of compiled modules (under the OS temp dir): later starts skip parsing Nest and the rest.
const { enableCompileCache } = await import('node:module');
enableCompileCache();
// Same process: signals reach the server's own SIGTERM/SIGINT handlers directly.
createRequire(import.meta.url)(main);
