#!/usr/bin/env node
// Writes docs/asyncapi.json from the compiled server (`npm run asyncapi` builds it first): the same document
// GET /asyncapi.json serves. test/http/asyncapi.e2e-spec.ts fails when the committed file and the code disagree.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { buildAsyncApiDocument } = require('../dist/docs/asyncapi.js');
writeFileSync(new URL('../docs/asyncapi.json', import.meta.url), `${JSON.stringify(buildAsyncApiDocument(), null, 2)}\n`);
console.log('docs/asyncapi.json written');
