import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type TestServer } from '../support/server';
import { TestClient } from '../support/ws-client';

const DASHBOARD = join(__dirname, '..', '..', 'docs', 'grafana', 'hubbub.json');

/** Every PromQL query of the dashboard: panel `expr`s (rows included) and the variables' `label_values(…)`. */
function queries(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) queries(item, out);
  else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if ((key === 'expr' || key === 'definition') && typeof value === 'string') out.push(value);
      else queries(value, out);
    }
  }
  return out;
}

const PROMQL_WORDS = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless',
  'offset', 'inf', 'nan',
]); // prettier-ignore

/**
 * The metric names a PromQL expression reads: identifiers left once label matchers, range selectors, grouping
 * clauses, strings and numbers are removed, and that are not called as functions.
 */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\blabel_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,[^)]*\)/g, ' $1 ');
  const names: string[] = [];
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = m[0];
    const before = stripped[m.index - 1] ?? ' ';
    if (PROMQL_WORDS.has(word.toLowerCase()) || /[0-9.$]/.test(before)) continue;
    if (/^\s*\(/.test(stripped.slice(m.index + word.length))) continue; // a function call
    names.push(word);
  }
  return names;
}

/** Series names a /metrics text exports: every sample's name, and the family names its TYPE lines declare. */
function exported(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      const [, name, kind] = type;
      names.add(name);
      if (kind === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
      if (kind === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
    } else if (line && !line.startsWith('#')) names.add(line.split(/[{ ]/, 1)[0]);
  }
  return names;
}

describe('docs/grafana/hubbub.json', () => {
  let server: TestServer;
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Record<string, unknown>;

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('reads metric names out of PromQL the way the check below relies on', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, event) (rate(hubbub_request_duration_seconds_bucket{instance=~"$instance"}[$__rate_interval])))',
      ),
    ).toEqual(['hubbub_request_duration_seconds_bucket']);
    expect(metricNames('sum(rate(a_total{code="x"}[5m])) / sum(rate(b_count[1m])) > 0')).toEqual([
      'a_total',
      'b_count',
    ]);
    expect(metricNames('label_values(hubbub_connections, instance)')).toEqual([
      'hubbub_connections',
    ]);
  });

  it('is a Grafana dashboard whose every panel has a query', () => {
    expect(dashboard).toMatchObject({ title: 'Hubbub', uid: 'hubbub', schemaVersion: 39 });
    const panels = dashboard.panels as { type: string; title: string; targets?: unknown[] }[];
    const graphs = panels.filter((p) => p.type !== 'row');
    expect(graphs.length).toBeGreaterThanOrEqual(15);
    for (const p of graphs)
      expect({ [p.title]: queries(p).length > 0 }).toEqual({ [p.title]: true });
  });

  it('queries only series a running server exports on /metrics', async () => {
    // Some traffic first, so the labelled series have samples as they would in production.
    const client = await TestClient.connect(server.wsUrl, await server.token('grafana'));
    await client.call('ping');
    await client.call('chat.join', { room: 'dash' });
    await client.call('chat.send', { room: 'dash', text: 'hi' });
    await client.close();
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const available = exported(text);

    const referenced = new Set(queries(dashboard).flatMap(metricNames));
    // The dashboard covers the contract's series, the new histograms and the process metrics.
    for (const name of [
      'hubbub_connections',
      'hubbub_messages_received_total',
      'hubbub_messages_sent_total',
      'hubbub_errors_total',
      'hubbub_request_duration_seconds_bucket',
      'hubbub_chat_append_duration_seconds_bucket',
      'hubbub_fanout_recipients_sum',
      'hubbub_handshakes_total',
      'hubbub_slow_consumer_closes_total',
      'hubbub_rate_limit_closes_total',
      'hubbub_webhook_attempts_total',
      'hubbub_rooms',
      'hubbub_channels',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_gc_duration_seconds_sum',
    ])
      expect(referenced).toContain(name);
    const missing = [...referenced].filter((name) => !available.has(name));
    expect(missing).toEqual([]);
  });
});
