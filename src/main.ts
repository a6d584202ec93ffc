// First, before anything that an old Node.js could fail to load.
import './node-version-check';
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { installShutdown, createServer } from './bootstrap';
import { ConfigError, loadConfig } from './config/config';

async function main(): Promise<void> {
  // `.env` complements the environment (real variables win); this is the only place the environment is read.
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const app = await createServer(config);
  installShutdown(app, config);
}

void main();
