/**
 * The Node flags the auth-service runs with: deploy/auth-service/Dockerfile's ENTRYPOINT
 * passes them, and the benchmarks start the service with them.
 *
 * `--heap-growing-percent=300` lets the old generation grow to four times what it held after a
 * major collection before V8 starts the next one (V8's own choice here was about 2.6 times).
 * The service keeps its whole directory in memory (46 MB for 10,000 agents and 50,000 grants
 * and rules), and under load Node's socket objects are promoted fast enough to start a major
 * collection every few seconds, each marking the whole directory. On two busy cores that
 * marking stretched the broker checks' p99 at half load to a median of 1.1-6.1 times a bare
 * server's in two runs; with the flag, between them, 0.6-1.5 times (docs/performance.md,
 * section 1). The price is
 * memory: up to about four times the directory's live size between collections.
 */
export const SERVICE_NODE_FLAGS: readonly string[] = Object.freeze(['--heap-growing-percent=300']);
