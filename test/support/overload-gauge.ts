import type { ChildServer } from './child-server';

/** The `hubbub_overloaded` gauge as `server`'s /metrics shows it now (0 or 1). */
export async function overloadedGauge(server: ChildServer): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = /^hubbub_overloaded (\d+)$/m.exec(text);
  if (!line) throw new Error('no hubbub_overloaded in /metrics');
  return Number(line[1]);
}

/** Polls the gauge (sampled once a second by the server) until it reads `value`, for at most `ms`. */
export async function overloadedGaugeBecomes(
  server: ChildServer,
  value: number,
  ms: number,
): Promise<void> {
  const deadline = Date.now() + ms;
  while ((await overloadedGauge(server)) !== value) {
    if (Date.now() > deadline) throw new Error(`hubbub_overloaded did not become ${value}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
