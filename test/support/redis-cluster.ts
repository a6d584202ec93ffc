import { execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './child-server';
import { startRedisProcess, stopProcess, until } from './redis-processes';

const run = promisify(execFile);
export const REDIS_CLI = '/usr/bin/redis-cli';

/** One redis-server of a test's Redis Cluster. */
export interface ClusterNode {
  port: number;
  proc: ChildProcess;
}

/** A real Redis Cluster of the test's own: 3 masters and 3 replicas on spare ports, each in its own temp dir. */
export interface RedisClusterProcesses {
  nodes: ClusterNode[];
  /** `host:port,…` of every node: REDIS_CLUSTER_NODES. */
  seeds: string;
  dir: string;
}

/**
 * Starts 6 `redis-server --cluster-enabled yes` processes (data port and cluster bus port both spare ones),
 * joins them with `redis-cli --cluster create … --cluster-replicas 1 --cluster-yes`, and resolves once every node
 * says `cluster_state:ok` and every replica's link to its master is up. Stop it with {@link stopRedisCluster}.
 */
export async function startRedisCluster(size = 6): Promise<RedisClusterProcesses> {
  const dir = mkdtempSync(join(tmpdir(), 'hubbub-redis-cluster-'));
  const nodes: ClusterNode[] = [];
  try {
    for (let i = 0; i < size; i++) {
      const port = await freePort();
      const bus = await freePort();
      const own = join(dir, String(port));
      mkdirSync(own);
      const proc = await startRedisProcess([
        ...['--port', String(port), '--bind', '127.0.0.1', '--dir', own],
        ...['--cluster-enabled', 'yes', '--cluster-port', String(bus)],
        ...['--cluster-config-file', join(own, 'nodes.conf'), '--cluster-node-timeout', '2000'],
        ...['--save', '', '--appendonly', 'no'],
      ]);
      nodes.push({ port, proc });
    }
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
    await run(REDIS_CLI, [
      '--cluster',
      'create',
      ...addresses,
      '--cluster-replicas',
      String(size >= 6 ? 1 : 0),
      '--cluster-yes',
    ]);
    for (const node of nodes) {
      await withNode(node.port, async (redis) => {
        await until(
          async () =>
            ((await redis.call('CLUSTER', 'INFO')) as string).includes('cluster_state:ok'),
          `cluster_state:ok on ${node.port}`,
          30_000,
        );
        await until(async () => {
          const info = await redis.info('replication');
          return info.includes('role:master') || info.includes('master_link_status:up');
        }, `the replica on ${node.port} to sync`);
      });
    }
    // Every node agrees on the same slot owners (the create command's view has reached them all).
    await until(
      async () => {
        const views = await Promise.all(nodes.map((n) => withNode(n.port, masterView)));
        return views.every((v) => v === views[0] && v.split(',').length === size / 2);
      },
      'every node to agree on the masters',
      30_000,
    );
    return { nodes, seeds: addresses.join(','), dir };
  } catch (err) {
    for (const n of nodes) await stopProcess(n.proc);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Stops every node by PID and removes the temp dir. */
export async function stopRedisCluster(cluster: RedisClusterProcesses | undefined): Promise<void> {
  if (!cluster) return;
  for (const node of cluster.nodes) await stopProcess(node.proc);
  rmSync(cluster.dir, { recursive: true, force: true });
}

/** Runs `fn` with a plain client of one node, closed after. */
export async function withNode<T>(port: number, fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

/** `port:firstSlot-lastSlot` of every master, sorted, as this node sees them. */
async function masterView(redis: Redis): Promise<string> {
  const slots = (await redis.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  return slots
    .map(([from, to, [, port]]) => `${port}:${from}-${to}`)
    .sort()
    .join(',');
}

/** The port of the master that serves `slot`, and the ports of its replicas, as `port`'s node sees them. */
export async function ownerOf(
  port: number,
  slot: number,
): Promise<{ master: number; replicas: number[] }> {
  return withNode(port, async (redis) => {
    const slots = (await redis.call('CLUSTER', 'SLOTS')) as [
      number,
      number,
      ...[string, number][],
    ][];
    const range = slots.find(([from, to]) => slot >= from && slot <= to);
    if (!range) throw new Error(`no master serves slot ${slot}`);
    const [, , master, ...replicas] = range;
    return { master: master[1], replicas: replicas.map((r) => r[1]) };
  });
}

/** Master ranges as `[from, to]` pairs (each master's slot ranges), as `port`'s node sees them. */
export async function masterRanges(port: number): Promise<Map<number, [number, number][]>> {
  return withNode(port, async (redis) => {
    const slots = (await redis.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const out = new Map<number, [number, number][]>();
    for (const [from, to, [, p]] of slots) out.set(p, [...(out.get(p) ?? []), [from, to]]);
    return out;
  });
}
