/**
 * CPU milliseconds this process spent (server and test clients alike, every thread) while `work` ran. Unlike wall
 * time, it does not grow when other processes keep a shared machine's cores busy, so a bound on it can guard an
 * "answered at once" promise without failing on a loaded CI machine.
 */
export async function cpuMsOf<T>(work: () => Promise<T> | T): Promise<{ value: T; cpuMs: number }> {
  const before = process.cpuUsage();
  const value = await work();
  const used = process.cpuUsage(before);
  return { value, cpuMs: (used.user + used.system) / 1000 };
}
