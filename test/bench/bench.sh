#!/bin/sh
# `pnpm bench [--quick] [--only name,...]`: builds the workspace and the benchmarks, raises the
# open-files limit (the connect storm holds thousands of sockets in one process), then runs them.
# `pnpm bench:profile [--quick]` (this script with `profile` first) runs the perf breakdown of
# a ping's CPU (profile-ping.ts) instead.
set -e
cd "$(dirname "$0")/../.."
pnpm build
rm -rf test/bench/dist
pnpm exec tsc -p test/tsconfig.bench.json
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
if [ "${1:-}" = profile ]; then
  shift
  exec node test/bench/dist/profile-ping.js "$@"
fi
exec node test/bench/dist/run-all.js "$@"
