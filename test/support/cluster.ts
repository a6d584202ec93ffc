import { buildServerOnce, spawnServer, type ChildEnv, type ChildServer } from './child-server';

/**
 * Server processes as a cluster behind a load balancer: the compiled server (built once per test file), one
 * process per name with `env(name)` (its NODE_ID, REDIS_URL, …), started in parallel. Stop them with stopCluster.
 */
export async function spawnCluster(
  names: string[],
  env: (name: string) => ChildEnv,
  timeoutMs?: number,
): Promise<ChildServer[]> {
  await buildServerOnce();
  return Promise.all(names.map((name) => spawnServer(env(name), timeoutMs)));
}

/** SIGTERM to every node (a graceful stop), then SIGKILL to any still running after 15 s. */
export async function stopCluster(nodes: readonly (ChildServer | undefined)[]): Promise<void> {
  const running = nodes.filter((n): n is ChildServer => n !== undefined);
  for (const node of running) node.kill('SIGTERM');
  await Promise.all(running.map((n) => n.waitForExit(15_000).catch(() => n.kill('SIGKILL'))));
}
