// First, before anything that an old Node.js could fail to load.
import './node-version-check';
import 'reflect-metadata';
import { existsSync, readFileSync } from 'node:fs';
import { installShutdown, createServer } from './bootstrap';
import { ConfigError, loadConfig } from './config/config';
import { envFileWarnings } from './config/env-file';

async function main(): Promise<void> {
  // `.env` complements the environment (real variables win); this is the only place the environment is read.
  if (existsSync('.env')) {
    process.loadEnvFile('.env');
    // A typo (`PROT=4142`) would otherwise pass silently: one line per unknown key, with the closest known one.
    for (const warning of envFileWarnings(readFileSync('.env', 'utf8'))) console.warn(warning);
  }
  try {
    const config = loadConfig(process.env);
    const app = await createServer(config);
    installShutdown(app, config);
  } catch (err) {
    // A refused configuration, or a port in use: one line naming the key, no stack.
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}

void main();
