import { getPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GeneratorProcess } from '../../../src/generator/generator-process.js';
import { ConfigError, poolLimitsFromEnv } from '../../../src/config/config.js';
import { GeneratorError, loadParams, type Methods } from '../../../src/generator/protocol.js';
import { withIstiodProxyTypes } from '../../../src/jobs/compute.service.js';
import { toWireProxy } from '../../../src/proxy-config/proxy-config.service.js';
import { ProxyType } from '../../../src/graphql/enums.js';
import type { Workload } from '../../../src/model/snapshot.js';

const fake = fileURLToPath(new URL('./fake-generator.mjs', import.meta.url));
// The fake speaks methods the real protocol does not have.
type Loose = GeneratorProcess & {
  request(method: string, params: unknown, timeoutMs: number): Promise<unknown>;
  requestParamsJson(method: string, paramsJson: string, timeoutMs: number): Promise<unknown>;
};

function workload(name: string, proxyType: Workload['proxyType']): Workload {
  return { namespace: 'shop', name, kind: 'Pod', proxyType, labels: {}, annotations: {}, ips: ['10.0.0.1'], serviceAccount: 'default', services: [] };
}

describe('GeneratorProcess', () => {
  it('matches concurrent answers to their requests by id', async () => {
    const p = new GeneratorProcess(fake) as Loose;
    const answers = await Promise.all([1, 2, 3].map((n) => p.request('echo', { n }, 5000)));
    expect(answers).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    p.close();
  });

  it('sends params given as JSON as it sends them given as values', async () => {
    const p = new GeneratorProcess(fake) as Loose;
    const params = { kinds: { 'shop/web': 'Pod' }, text: 'a "quoted" \u2028 line', n: [1, 2.5] };
    expect(await p.requestParamsJson('echo', JSON.stringify(params), 5000)).toEqual(await p.request('echo', params, 5000));
    p.close();
  });

  it('runs as much nicer than the service as it is asked', async () => {
    const p = new GeneratorProcess(fake, 10) as Loose;
    await p.request('echo', {}, 5000);
    expect(getPriority(p.pid!)).toBe(Math.min(19, getPriority() + 10));
    p.close();
  });

  it('turns an error response into a GeneratorError with its code', async () => {
    const p = new GeneratorProcess(fake) as Loose;
    await expect(p.request('fail', {}, 5000)).rejects.toMatchObject({ code: 'INTERNAL', message: 'istio panicked: boom' });
    p.close();
  });

  it('hands a raw answer over as the bytes of its whole line, in a buffer of its own, and raw errors as GeneratorErrors', async () => {
    const p = new GeneratorProcess(fake) as Loose & { requestRaw(method: string, params: unknown, timeoutMs: number): Promise<Uint8Array> };
    // Lines of several pipe chunks, answered concurrently with small ones.
    const big = { text: 'é'.repeat(300_000) };
    const [raw, small, rawSmall] = await Promise.all([
      p.requestRaw('echo', big, 5000),
      p.request('echo', { n: 1 }, 5000),
      p.requestRaw('echo', { n: 2 }, 5000),
    ]);
    expect(JSON.parse(new TextDecoder().decode(raw))).toMatchObject({ result: big });
    expect(raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength).toBe(true);
    expect(small).toEqual({ n: 1 });
    expect(JSON.parse(new TextDecoder().decode(rawSmall))).toMatchObject({ result: { n: 2 } });
    expect(rawSmall.byteLength).toBe(rawSmall.buffer.byteLength);
    await expect(p.requestRaw('fail', {}, 5000)).rejects.toMatchObject({ code: 'INTERNAL', message: 'istio panicked: boom' });
    p.close();
  });

  it('times out a request that gets no answer', async () => {
    const p = new GeneratorProcess(fake) as Loose;
    await expect(p.request('slow', {}, 100)).rejects.toMatchObject({ code: 'TIMEOUT' });
    p.close();
  });

  it('fails pending and later requests once the process exits, with its last stderr', async () => {
    const p = new GeneratorProcess(fake) as Loose;
    const error = await p.request('exit', {}, 5000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GeneratorError);
    expect(error).toMatchObject({ code: 'EXITED' });
    expect((error as Error).message).toContain('going away');
    expect(p.alive).toBe(false);
    await expect(p.request('echo', {}, 5000)).rejects.toMatchObject({ code: 'EXITED' });
  });

  it('reports a binary that cannot run', async () => {
    const p = new GeneratorProcess('/nonexistent/generator') as Loose;
    await expect(p.request('echo', {}, 5000)).rejects.toMatchObject({ code: 'EXITED' });
  });
});

describe('toWireProxy', () => {
  it('lets a named workload keep its own type when the schema default SIDECAR was given', () => {
    expect(toWireProxy({ namespace: 'shop', name: 'gw', type: ProxyType.SIDECAR }).type).toBeUndefined();
    expect(toWireProxy({ namespace: 'shop', name: 'gw', type: ProxyType.ROUTER }).type).toBe('ROUTER');
  });

  it('keeps the type of an ad-hoc proxy', () => {
    expect(toWireProxy({ namespace: 'shop', labels: { app: 'x' }, type: ProxyType.SIDECAR }).type).toBe('SIDECAR');
  });

  it('refuses bad labels, addresses and metadata with every problem named', () => {
    const error = (() => {
      try {
        // What a REST client can send (JSON, unchecked by TypeScript): the casts are the point of the test.
        const labels = { a: 1 } as unknown as Record<string, string>;
        const metadata = [] as unknown as Record<string, unknown>;
        toWireProxy({ namespace: '', labels, ip: '300.1.1.1', metadata, type: ProxyType.SIDECAR });
      } catch (e) {
        return e as GeneratorError;
      }
    })();
    expect(error?.code).toBe('BAD_REQUEST');
    expect(error?.message).toContain('namespace is required');
    expect(error?.message).toContain('labels must be an object of string values');
    expect(error?.message).toContain('"300.1.1.1" is not an IP address');
    expect(error?.message).toContain('metadata must be an object');
  });
});

describe('loadParams and istiod proxy types', () => {
  it('gives the generator each workload proxy type by namespace/name', () => {
    const params = loadParams({ workloads: [workload('a', 'SIDECAR'), workload('gw', 'ROUTER')], generatorInput: { kubernetes: [], istio: [], meshConfig: '', analysis: [] } });
    expect(params.proxyTypes).toEqual({ 'shop/a': 'SIDECAR', 'shop/gw': 'ROUTER' });
    expect(params.kinds).toEqual({ 'shop/a': workload('a', 'SIDECAR').kind, 'shop/gw': workload('gw', 'ROUTER').kind });
  });

  it('takes the type istiod built for each pod; a pod without a proxy is NONE', () => {
    const proxies: Methods['proxies']['result'] = [
      { namespace: 'shop', name: 'a', kind: 'Pod', proxy: { id: 'a.shop', type: 'ROUTER', namespace: 'shop', configNamespace: 'shop', labels: {}, ips: [], istioVersion: '1.31.0', serviceTargets: [] } },
      { namespace: 'shop', name: 'b', kind: 'Pod' },
    ];
    const out = withIstiodProxyTypes([workload('a', 'SIDECAR'), workload('b', 'SIDECAR'), workload('c', 'NONE')], proxies);
    expect(out.map((w) => w.proxyType)).toEqual(['ROUTER', 'NONE', 'NONE']);
  });
});

describe('poolLimitsFromEnv', () => {
  it('reads the limits and falls back to defaults for missing or blank values', () => {
    expect(poolLimitsFromEnv({ MESHLENS_GENERATOR_SESSIONS: '2', MESHLENS_GENERATOR_TIMEOUT_SECONDS: ' ' })).toEqual({
      maxSessions: 2,
      maxRssBytes: 4096 * 1024 * 1024,
      idleMs: 300_000,
      requestTimeoutMs: 60_000,
    });
  });

  it('refuses a bad value with a ConfigError naming the variable', () => {
    expect(() => poolLimitsFromEnv({ MESHLENS_GENERATOR_TIMEOUT_SECONDS: 'x' })).toThrow(
      new ConfigError('MESHLENS_GENERATOR_TIMEOUT_SECONDS must be a positive number, got "x"'),
    );
  });
});
