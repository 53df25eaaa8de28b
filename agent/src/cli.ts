#!/usr/bin/env node
import { AGENT_PARTS } from './agent-parts.js';
import { main } from './cli/main.js';

// No top-level await: the single-executable bundle (deploy/bundle) is CommonJS.
void main(
  process.argv.slice(2),
  {
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
  },
  AGENT_PARTS,
).then((exitCode) => {
  process.exitCode = exitCode;
});
