#!/usr/bin/env node
import { AGENT_PARTS } from './agent-parts.js';
import { main } from './cli/main.js';

const exitCode = await main(
  process.argv.slice(2),
  {
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
  },
  AGENT_PARTS,
);
process.exitCode = exitCode;
