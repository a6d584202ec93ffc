/**
 * Sizes and timings the hot path reports, for histograms. Declared here, at the bottom of the layers, and
 * implemented by metrics (prom-client), so that the code that measures never imports metrics. Counts need no such
 * seam: they stay plain numbers on the classes that count, read at scrape time.
 */
export abstract class Observations {
  /** A routed request (an event some gateway handles) was answered, with a reply or an error. */
  abstract request(event: string, seconds: number): void;
  /** One chat append was durably stored. */
  abstract chatAppend(seconds: number): void;
  /** One push was written to this many local connections. */
  abstract fanout(recipients: number): void;
}
