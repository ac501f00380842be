import '@pkeysim/x86';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { parseScenario } from '@pkeysim/scenario';
import { recordScenario } from '@pkeysim/timeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InspectorServer, inspectorPayload, InspectorPortError, serveInspector } from '../src';

const example = resolve(import.meta.dirname, '../../../examples/rfc-v1-interrupt.yaml');

describe('inspector server', () => {
  let server: InspectorServer;
  beforeAll(async () => {
    const { timeline } = recordScenario(parseScenario(readFileSync(example, 'utf8'), 'rfc-v1-interrupt.yaml'));
    server = await serveInspector(inspectorPayload(timeline), { port: 0 });
  });
  afterAll(() => server.close());

  it('listens on 127.0.0.1 only and prints a URL there', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('serves the prebuilt page, whose scripts and styles are its own files', async () => {
    const html = await (await fetch(server.url)).text();
    expect(html).toContain('<title>pkeysim inspector</title>');
    const assets = [...html.matchAll(/(?:src|href)="\.\/(assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const asset of assets) expect((await fetch(new URL(asset, server.url))).status).toBe(200);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('serves the run as JSON: timeline, trace and one formatted line per event', async () => {
    const run = (await (await fetch(new URL('run.json', server.url))).json()) as {
      timeline: { events: unknown[]; steps: unknown[] };
      trace: { traceEvents: unknown[] };
      lines: string[];
    };
    expect(run.timeline.steps.length).toBe(run.timeline.events.length);
    expect(run.lines.length).toBe(run.timeline.events.length);
    expect(run.trace.traceEvents.length).toBeGreaterThan(0);
  });

  it('refuses paths outside the page and methods other than GET', async () => {
    expect((await fetch(new URL('/../../package.json', server.url))).status).toBe(404);
    expect(await rawStatus(server.port, '/..%2f..%2fpackage.json')).toBe(403);
    expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
  });

  it('reports a port in use in words, not a stack', async () => {
    const blocker = createServer();
    await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done));
    const port = (blocker.address() as { port: number }).port;
    await expect(serveInspector('{}', { port })).rejects.toThrow(InspectorPortError);
    await expect(serveInspector('{}', { port })).rejects.toThrow(/port \d+ is in use/);
    blocker.close();
  });
});

/** GET a path as written (fetch would normalise "..") and return the status. */
function rawStatus(port: number, path: string): Promise<number> {
  return new Promise((done, fail) => {
    get({ host: '127.0.0.1', port, path }, (response) => {
      response.resume();
      done(response.statusCode ?? 0);
    }).on('error', fail);
  });
}
