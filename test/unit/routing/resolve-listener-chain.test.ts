// Route resolution, first half: listener choice, the filter chain sieve, listener filters, TLS checks.
import { describe, expect, it } from 'vitest';
import { resolveRoute } from '../../../src/routing/resolve.js';
import {
  HTTP_INSPECTOR_FILTER,
  TLS_INSPECTOR_FILTER,
  call,
  config,
  outboundHttpListener,
  rdsHcm,
  socket,
  tcpProxy,
  tlsSocket,
  virtualInbound,
  virtualOutbound,
} from '../../support/envoy-fixtures.js';

const anyRoute = (name: string) => ({
  name,
  virtualHosts: [
    {
      name: 'any',
      domains: ['*'],
      routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster: `outbound|${name}||x.default.svc.cluster.local` } }],
    },
  ],
});

/** A TCP listener whose chains are given; each chain proxies to a cluster named after it. */
function tcpListener(
  chains: { name: string; match?: Record<string, unknown>; tls?: Parameters<typeof tlsSocket>[0] }[],
  extra: Record<string, unknown> = {},
) {
  return {
    name: 'l',
    address: socket('0.0.0.0', 443),
    filterChains: chains.map((c) => ({
      name: c.name,
      ...(c.match ? { filterChainMatch: c.match } : {}),
      filters: [tcpProxy(`cluster-${c.name}`)],
      ...(c.tls ? { transportSocket: tlsSocket(c.tls) } : {}),
    })),
    ...extra,
  };
}

describe('listener choice', () => {
  const listeners = [
    { name: '10.0.0.5_80', address: socket('10.0.0.5', 80), filterChains: [{ filters: [tcpProxy('exact')] }] },
    outboundHttpListener(80),
    virtualOutbound(),
    virtualInbound(),
  ];
  const cfg = config({ listeners: listeners, routes: [anyRoute('80')] });

  it('takes the listener bound to address:port exactly', () => {
    const r = resolveRoute(cfg, call({ address: '10.0.0.5', port: 80, protocol: 'TCP' }));
    expect(r.listener).toBe('10.0.0.5_80');
    expect(r.cluster).toBe('exact');
    expect(r.error).toBeNull();
    expect(r.trace[0]).toMatchObject({ stage: 'listener', detail: expect.stringContaining('exactly') });
  });

  it('then the 0.0.0.0 listener of the port', () => {
    const r = resolveRoute(cfg, call({ address: '10.0.0.6', port: 80, host: 'x' }));
    expect(r.listener).toBe('0.0.0.0_80');
    expect(r.routeConfig).toBe('80');
    expect(r.error).toBeNull();
  });

  it('without an address, 1.3.3.7 (no listener binds it): the 0.0.0.0 listener', () => {
    expect(resolveRoute(cfg, call({ port: 80, host: 'x' })).listener).toBe('0.0.0.0_80');
  });

  it('then virtualOutbound for an outbound call to a port nobody listens on', () => {
    const r = resolveRoute(cfg, call({ address: '93.184.216.34', port: 5432, protocol: 'TCP' }));
    expect(r.listener).toBe('virtualOutbound');
    expect(r.filterChain).toBe('virtualOutbound-catchall-tcp');
    expect(r.cluster).toBe('PassthroughCluster');
    expect(r.trace.find((t) => t.stage === 'listener')!.detail).toContain('virtualOutbound');
  });

  it('a call to port 15001 itself hits the virtualOutbound blackhole chain', () => {
    const r = resolveRoute(cfg, call({ port: 15001, protocol: 'TCP' }));
    expect(r).toMatchObject({
      listener: 'virtualOutbound',
      filterChain: 'virtualOutbound-blackhole',
      cluster: 'BlackHoleCluster',
      error: null,
    });
  });

  it('no virtualOutbound to fall back to: "no listener matched"', () => {
    const r = resolveRoute(config({ listeners: [outboundHttpListener(80)] }), call({ port: 9090 }));
    expect(r).toMatchObject({ listener: null, error: 'no listener matched' });
  });

  it('INBOUND always goes to virtualInbound, whatever the port', () => {
    const r = resolveRoute(cfg, call({ mode: 'INBOUND', address: '10.0.0.7', port: 8080, host: 'web' }));
    expect(r.listener).toBe('virtualInbound');
    expect(r.filterChain).toBe('0.0.0.0_8080');
    expect(r.cluster).toBe('inbound|8080||');
    expect(r.error).toBeNull();
  });

  it('INBOUND without a virtualInbound listener: "no listener matched"', () => {
    const r = resolveRoute(config({ listeners: [outboundHttpListener(80)] }), call({ mode: 'INBOUND', port: 80 }));
    expect(r.error).toBe('no listener matched');
  });

  it('GATEWAY takes the 0.0.0.0 listener of the port, never virtualOutbound', () => {
    const gw = config({
      listeners: [outboundHttpListener(8080, 'http.8080'), virtualOutbound()],
      routes: [anyRoute('http.8080')],
    });
    expect(resolveRoute(gw, call({ mode: 'GATEWAY', port: 8080, host: 'a' })).listener).toBe('0.0.0.0_8080');
    const r = resolveRoute(gw, call({ mode: 'GATEWAY', port: 9999, host: 'a' }));
    expect(r).toMatchObject({ listener: null, error: 'no listener matched' });
    expect(r.trace.at(-1)!.detail).toContain('gateway');
  });

  it('an IPv6 wildcard listener (::) takes the port too', () => {
    const l = { name: '[::]_80', address: socket('::', 80), filterChains: [{ filters: [tcpProxy('v6')] }] };
    expect(resolveRoute(config({ listeners: [l] }), call({ port: 80, protocol: 'TCP' })).cluster).toBe('v6');
  });
});

describe('filter chain sieve', () => {
  const tcp = (extra: Partial<Parameters<typeof call>[0]> = {}) => call({ port: 443, protocol: 'TCP', ...extra });

  it('destination port: a chain naming the port beats chains that do not set it', () => {
    const l = tcpListener([
      { name: 'any' },
      { name: 'p443', match: { destinationPort: 443 } },
      { name: 'p80', match: { destinationPort: 80 } },
    ]);
    const r = resolveRoute(config({ listeners: [l] }), tcp());
    expect(r.filterChain).toBe('p443');
    expect(r.cluster).toBe('cluster-p443');
    expect(r.trace.some((t) => t.stage === 'filter chain' && t.detail.includes('destination port 443'))).toBe(true);
  });

  it('destination port: when no chain names the port, the chains without one survive', () => {
    const l = tcpListener([{ name: 'any' }, { name: 'p80', match: { destinationPort: 80 } }]);
    expect(resolveRoute(config({ listeners: [l] }), tcp()).filterChain).toBe('any');
  });

  it('prefix ranges: the longest matching prefix wins', () => {
    const l = tcpListener([
      { name: 'wide', match: { prefixRanges: [{ addressPrefix: '10.0.0.0', prefixLen: 8 }] } },
      { name: 'narrow', match: { prefixRanges: [{ addressPrefix: '10.1.2.0', prefixLen: 24 }] } },
      { name: 'host', match: { prefixRanges: [{ addressPrefix: '10.1.2.3', prefixLen: 32 }] } },
      { name: 'none' },
    ]);
    const cfg = config({ listeners: [l] });
    expect(resolveRoute(cfg, tcp({ address: '10.1.2.3' })).filterChain).toBe('host');
    expect(resolveRoute(cfg, tcp({ address: '10.1.2.4' })).filterChain).toBe('narrow');
    expect(resolveRoute(cfg, tcp({ address: '10.9.9.9' })).filterChain).toBe('wide');
    expect(resolveRoute(cfg, tcp({ address: '192.168.0.1' })).filterChain).toBe('none');
  });

  it('prefix ranges: IPv6 prefixes, and a prefixLen omitted by proto3 JSON (0) matches every address of its family', () => {
    const l = tcpListener([
      { name: 'v6', match: { prefixRanges: [{ addressPrefix: '2001:db8::', prefixLen: 32 }] } },
      { name: 'all-v4', match: { prefixRanges: [{ addressPrefix: '0.0.0.0' }] } },
    ]);
    const cfg = config({ listeners: [l] });
    expect(resolveRoute(cfg, tcp({ address: '2001:db8::1' })).filterChain).toBe('v6');
    expect(resolveRoute(cfg, tcp({ address: '10.0.0.1' })).filterChain).toBe('all-v4');
  });

  it('server names: exact SNI beats a wildcard, a longer wildcard beats a shorter one, no SNI takes the chain without names', () => {
    const l = tcpListener(
      [
        { name: 'exact', match: { serverNames: ['api.example.com'] } },
        { name: 'wild', match: { serverNames: ['*.example.com'] } },
        { name: 'wilder', match: { serverNames: ['*.com'] } },
        { name: 'longer-wild', match: { serverNames: ['*.eu.example.com'] } },
        { name: 'nosni' },
      ],
      { listenerFilters: [TLS_INSPECTOR_FILTER] },
    );
    const cfg = config({ listeners: [l] });
    expect(resolveRoute(cfg, tcp({ tls: 'TLS', sni: 'api.example.com' })).filterChain).toBe('exact');
    expect(resolveRoute(cfg, tcp({ tls: 'TLS', sni: 'web.example.com' })).filterChain).toBe('wild');
    expect(resolveRoute(cfg, tcp({ tls: 'TLS', sni: 'x.eu.example.com' })).filterChain).toBe('longer-wild');
    expect(resolveRoute(cfg, tcp({ tls: 'TLS', sni: 'example.org.com' })).filterChain).toBe('wilder');
    expect(resolveRoute(cfg, tcp({ tls: 'TLS', sni: 'example.org' })).filterChain).toBe('nosni');
    expect(resolveRoute(cfg, tcp({ tls: 'TLS' })).filterChain).toBe('nosni');
  });

  it('server names: a wildcard needs at least one character before its suffix', () => {
    const l = tcpListener([{ name: 'wild', match: { serverNames: ['*.example.com'] } }, { name: 'nosni' }], {
      listenerFilters: [TLS_INSPECTOR_FILTER],
    });
    expect(resolveRoute(config({ listeners: [l] }), tcp({ tls: 'TLS', sni: '.example.com' })).filterChain).toBe('nosni');
  });

  it('transport protocol: tls only with a TLS inspector and a TLS call; raw_buffer otherwise', () => {
    const chains = [
      { name: 'tls', match: { transportProtocol: 'tls' } },
      { name: 'raw', match: { transportProtocol: 'raw_buffer' } },
    ];
    const withInspector = config({ listeners: [tcpListener(chains, { listenerFilters: [TLS_INSPECTOR_FILTER] })] });
    const without = config({ listeners: [tcpListener(chains)] });
    expect(resolveRoute(withInspector, tcp({ tls: 'TLS', sni: 'a' })).filterChain).toBe('tls');
    expect(resolveRoute(withInspector, tcp({ tls: 'MTLS' })).filterChain).toBe('tls');
    expect(resolveRoute(withInspector, tcp()).filterChain).toBe('raw');
    // Without the inspector Envoy never learns the bytes are TLS.
    expect(resolveRoute(without, tcp({ tls: 'TLS', sni: 'a' })).filterChain).toBe('raw');
  });

  it('ALPN: offered ALPN selects the chain; a listener without a TLS inspector never sees it (and the trace says so)', () => {
    const chains = [
      { name: 'istio', match: { applicationProtocols: ['istio-peer-exchange', 'istio'] } },
      { name: 'h2', match: { applicationProtocols: ['h2'] } },
      { name: 'other' },
    ];
    const inspected = config({ listeners: [tcpListener(chains, { listenerFilters: [TLS_INSPECTOR_FILTER] })] });
    expect(resolveRoute(inspected, tcp({ tls: 'MTLS' })).filterChain).toBe('istio'); // default mTLS TCP ALPN: istio
    expect(resolveRoute(inspected, tcp({ tls: 'TLS', alpn: ['h2', 'http/1.1'] })).filterChain).toBe('h2');
    expect(resolveRoute(inspected, tcp({ tls: 'TLS', alpn: ['foo'] })).filterChain).toBe('other');
    const blind = config({ listeners: [tcpListener(chains)] });
    const r = resolveRoute(blind, tcp({ tls: 'TLS', alpn: ['h2'] }));
    expect(r.filterChain).toBe('other');
    expect(r.trace.some((t) => t.stage === 'listener filters' && t.detail.includes('no TLS inspector'))).toBe(true);
  });

  it('ALPN: the HTTP inspector sets http/1.1 or h2c for plaintext HTTP, nothing for TCP', () => {
    const l = outboundHttpListener(80);
    const routes = [anyRoute('80')];
    const cfg = config({ listeners: [l], routes: routes });
    const http1 = resolveRoute(cfg, call({ port: 80, host: 'x' }));
    expect(http1.routeConfig).toBe('80');
    expect(http1.trace.some((t) => t.stage === 'listener filters' && t.detail.includes('http/1.1'))).toBe(true);
    const h2 = resolveRoute(cfg, call({ port: 80, host: 'x', protocol: 'HTTP2' }));
    expect(h2.routeConfig).toBe('80');
    expect(h2.trace.some((t) => t.detail.includes('h2c'))).toBe(true);
    // Raw TCP: no ALPN, so the HTTP chain is out and the default (passthrough) chain takes it.
    const raw = resolveRoute(cfg, call({ port: 80, protocol: 'TCP' }));
    expect(raw).toMatchObject({ filterChain: 'PassthroughFilterChain', cluster: 'PassthroughCluster', error: null });
  });

  it('listener filter filterDisabled predicates: the inspector does not run on the disabled ports', () => {
    // virtualInbound disables the HTTP inspector on 8080 and the TLS inspector on 15006.
    const cfg = config({ listeners: [virtualInbound(8080)] });
    // Port 9000: HTTP inspector runs; plaintext HTTP picks the catch-all HTTP chain.
    const r9000 = resolveRoute(cfg, call({ mode: 'INBOUND', port: 9000, host: 'x' }));
    expect(r9000).toMatchObject({ filterChain: 'virtualInbound-catchall-http', cluster: 'InboundPassthroughCluster', error: null });
    // Port 8080: the HTTP inspector is disabled, the port-specific raw_buffer chain takes it all the same.
    const r8080 = resolveRoute(cfg, call({ mode: 'INBOUND', port: 8080, host: 'x' }));
    expect(r8080.filterChain).toBe('0.0.0.0_8080');
    expect(r8080.trace.some((t) => t.stage === 'listener filters' && t.detail.includes('HTTP inspector'))).toBe(false);
    // Port 15006: the TLS inspector is off, so even mTLS is raw_buffer and lands on the blackhole chain.
    const r15006 = resolveRoute(cfg, call({ mode: 'INBOUND', port: 15006, protocol: 'TCP', tls: 'MTLS' }));
    expect(r15006).toMatchObject({ filterChain: 'virtualInbound-blackhole', cluster: 'BlackHoleCluster' });
  });

  it('predicates: notMatch, andMatch and anyMatch', () => {
    const chains = [
      { name: 'tls', match: { transportProtocol: 'tls' } },
      { name: 'raw', match: { transportProtocol: 'raw_buffer' } },
    ];
    const withDisabled = (filterDisabled: Record<string, unknown>) =>
      config({ listeners: [tcpListener(chains, { listenerFilters: [{ ...TLS_INSPECTOR_FILTER, filterDisabled }] })] });
    const tlsCall = tcp({ tls: 'TLS', sni: 'a' });
    // disabled everywhere except 443
    expect(resolveRoute(withDisabled({ notMatch: { destinationPortRange: { start: 443, end: 444 } } }), tlsCall).filterChain).toBe('tls');
    expect(resolveRoute(withDisabled({ notMatch: { destinationPortRange: { start: 80, end: 81 } } }), tlsCall).filterChain).toBe('raw');
    expect(resolveRoute(withDisabled({ anyMatch: true }), tlsCall).filterChain).toBe('raw');
    expect(
      resolveRoute(
        withDisabled({
          andMatch: { rules: [{ destinationPortRange: { start: 400, end: 500 } }, { destinationPortRange: { start: 443, end: 444 } }] },
        }),
        tlsCall,
      ).filterChain,
    ).toBe('raw');
    expect(
      resolveRoute(
        withDisabled({
          andMatch: { rules: [{ destinationPortRange: { start: 400, end: 500 } }, { destinationPortRange: { start: 444, end: 445 } }] },
        }),
        tlsCall,
      ).filterChain,
    ).toBe('tls');
  });

  it('no chain matches: the default filter chain takes the connection', () => {
    const l = tcpListener([{ name: 'p80', match: { destinationPort: 80 } }], {
      defaultFilterChain: { name: 'fallback', filters: [tcpProxy('fallback-cluster')] },
    });
    const r = resolveRoute(config({ listeners: [l] }), tcp());
    expect(r).toMatchObject({ filterChain: 'fallback', cluster: 'fallback-cluster', error: null });
    expect(r.trace.some((t) => t.detail.includes('default filter chain'))).toBe(true);
  });

  it('no chain matches and no default: "no filter chains matched"', () => {
    const l = tcpListener([{ name: 'p80', match: { destinationPort: 80 } }]);
    const r = resolveRoute(config({ listeners: [l] }), tcp());
    expect(r).toMatchObject({ listener: 'l', filterChain: null, cluster: null, error: 'no filter chains matched' });
  });

  it('a listener with no chains at all and no default: "no filter chains matched"', () => {
    const r = resolveRoute(config({ listeners: [{ name: 'l', address: socket('0.0.0.0', 443) }] }), tcp());
    expect(r.error).toBe('no filter chains matched');
  });

  it('two chains equally good: "multiple filter chains matched"', () => {
    const l = tcpListener([
      { name: 'a', match: { destinationPort: 443 } },
      { name: 'b', match: { destinationPort: 443 } },
    ]);
    const r = resolveRoute(config({ listeners: [l] }), tcp());
    expect(r.error).toBe('multiple filter chains matched');
    expect(r.filterChain).toBeNull();
    expect(r.trace.at(-1)!.detail).toContain('"a"');
  });

  it('an unnamed chain comes back as null, not ""', () => {
    const l = { name: 'l', address: socket('0.0.0.0', 443), filterChains: [{ filters: [tcpProxy('c')] }] };
    const r = resolveRoute(config({ listeners: [l] }), tcp());
    expect(r.filterChain).toBeNull();
    expect(r.cluster).toBe('c');
  });
});

describe('TLS checks', () => {
  const httpsListener = (kind: Parameters<typeof tlsSocket>[0]) => ({
    name: '0.0.0.0_443',
    address: socket('0.0.0.0', 443),
    filterChains: [{ name: 'secure', filters: [rdsHcm('https.443')], transportSocket: tlsSocket(kind) }],
    listenerFilters: [TLS_INSPECTOR_FILTER],
  });
  const routes = [anyRoute('https.443')];

  it('a TLS-terminating chain rejects plaintext: "invalid TLS"', () => {
    const r = resolveRoute(config({ listeners: [httpsListener('tls')], routes: routes }), call({ port: 443, host: 'a' }));
    expect(r).toMatchObject({ filterChain: 'secure', error: 'invalid TLS' });
  });

  it('gateway credential (plain TLS): TLS passes, mTLS is "invalid mTLS"', () => {
    const cfg = config({ listeners: [httpsListener('tls')], routes: routes });
    expect(resolveRoute(cfg, call({ port: 443, host: 'a', tls: 'TLS', sni: 'a' })).error).toBeNull();
    expect(resolveRoute(cfg, call({ port: 443, host: 'a', tls: 'MTLS' })).error).toBe('invalid mTLS');
  });

  it('Istio mTLS (the workload\'s default secret, client certificate required): mTLS passes, plain TLS is "invalid mTLS"', () => {
    const cfg = config({ listeners: [httpsListener('mtls')], routes: routes });
    const ok = resolveRoute(cfg, call({ port: 443, host: 'a', tls: 'MTLS' }));
    expect(ok.error).toBeNull();
    expect(ok.trace.some((t) => t.stage === 'tls' && t.detail.includes('mTLS'))).toBe(true);
    expect(resolveRoute(cfg, call({ port: 443, host: 'a', tls: 'TLS', sni: 'a' })).error).toBe('invalid mTLS');
  });

  it('the default secret without a required client certificate, or another secret with one, is plain TLS', () => {
    for (const kind of ['default-no-client-cert', 'client-cert-other-secret'] as const) {
      const cfg = config({ listeners: [httpsListener(kind)], routes: routes });
      expect(resolveRoute(cfg, call({ port: 443, host: 'a', tls: 'TLS', sni: 'a' })).error).toBeNull();
      expect(resolveRoute(cfg, call({ port: 443, host: 'a', tls: 'MTLS' })).error).toBe('invalid mTLS');
    }
  });

  it('inbound: mTLS HTTP to the app port lands on the mTLS chain; plain TLS there is "invalid mTLS"', () => {
    const cfg = config({ listeners: [virtualInbound(8080)] });
    expect(resolveRoute(cfg, call({ mode: 'INBOUND', port: 8080, host: 'x', tls: 'MTLS' }))).toMatchObject({
      filterChain: '0.0.0.0_8080',
      cluster: 'inbound|8080||',
      error: null,
    });
    // Plain TLS offering http/1.1: the port narrows to the two 0.0.0.0_8080 chains, transport to the tls one, whose
    // ALPN list (istio, istio-http/1.1, ...) does not include http/1.1; nothing is left and there is no default chain.
    const r = resolveRoute(cfg, call({ mode: 'INBOUND', port: 8080, host: 'x', tls: 'TLS', sni: 'x' }));
    expect(r.error).toBe('no filter chains matched');
    // With an Istio ALPN but plain TLS, the chain matches and the certificate check fails.
    expect(resolveRoute(cfg, call({ mode: 'INBOUND', port: 8080, host: 'x', tls: 'TLS', sni: 'x', alpn: ['istio-http/1.1'] })).error).toBe(
      'invalid mTLS',
    );
  });
});

describe('sanity', () => {
  it('HTTP inspector on a listener with a non-HTTP default', () => {
    const l = {
      name: 'l',
      address: socket('0.0.0.0', 80),
      filterChains: [{ filters: [tcpProxy('c')] }],
      listenerFilters: [HTTP_INSPECTOR_FILTER],
    };
    expect(resolveRoute(config({ listeners: [l] }), call({ port: 80, host: 'h' }))).toMatchObject({ cluster: 'c', error: null });
  });
});
