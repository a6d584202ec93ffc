#!/usr/bin/env node
// Prints a new WEBHOOK_SECRET: `whsec_` + base64 of 32 random bytes (Standard Webhooks).
// `npm run -s webhook-secret` prints only the secret, ready for `.env` or a secret store.
import { randomBytes } from 'node:crypto';

console.log(`whsec_${randomBytes(32).toString('base64')}`);
