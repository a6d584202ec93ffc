/**
 * Captures what the server in this process logs (Nest's console logger writes to process.stdout/stderr, express
 * and libraries use console.*), so a test can prove that client input never makes it log a stack trace.
 */
export interface LogCapture {
  readonly lines: string[];
  /** Captured text that looks like a stack trace (`    at fn (file:line:col)`). */
  stacks(): string[];
  restore(): void;
}

const STACK_LINE = /^\s+at .+(:\d+:\d+\)?|\(native\)|<anonymous>\)?)$/m;

export function captureLogs(): LogCapture {
  const lines: string[] = [];
  const originals = {
    out: process.stdout.write.bind(process.stdout),
    err: process.stderr.write.bind(process.stderr),
  };
  const intercept =
    (passThrough: typeof process.stdout.write) =>
    (chunk: unknown, ...rest: unknown[]): boolean => {
      lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString());
      return (passThrough as (...args: unknown[]) => boolean)(chunk, ...rest);
    };
  process.stdout.write = intercept(originals.out);
  process.stderr.write = intercept(originals.err);
  const spies = (['error', 'warn', 'log'] as const).map((level) =>
    jest.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      lines.push(
        args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : String(a))).join(' '),
      );
    }),
  );
  return {
    lines,
    stacks: () => lines.filter((line) => STACK_LINE.test(line)),
    restore: () => {
      process.stdout.write = originals.out;
      process.stderr.write = originals.err;
      for (const spy of spies) spy.mockRestore();
    },
  };
}
