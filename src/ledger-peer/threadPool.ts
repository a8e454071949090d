import { availableParallelism } from 'node:os';

/**
 * Imported first by the standalone peer's entry point, before anything uses libuv's thread
 * pool (which reads UV_THREADPOOL_SIZE when it starts its threads, on first use): the pool
 * runs the peer's ECDSA (every request's signature check, every endorsement signature), work
 * that only competes with the event loop when the pool has more threads than there are cores.
 * Node's default is 4; on a 2-core machine 2 threads spent ~4% less peer CPU per lease under
 * 32 clients (5 alternating runs). An operator's own setting is kept.
 */
process.env.UV_THREADPOOL_SIZE ??= String(Math.min(4, Math.max(2, availableParallelism())));
