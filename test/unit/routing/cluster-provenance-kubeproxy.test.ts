// describeCluster, parseClusterName, istioConfigRef and the no-sidecar (kube-proxy) resolution.
import { describe, expect, it } from 'vitest';
import { describeCluster, parseClusterName } from '../../../src/envoy/describe-cluster.js';
import { kubeProxyResolution } from '../../../src/routing/kube-proxy.js';
import { formatRef, istioConfigRef } from '../../../src/envoy/provenance.js';
import type { GeneratorInput } from '../../../src/model/snapshot.js';
import { cluster, istioMeta } from '../../support/envoy-fixtures.js';

describe('parseClusterName', () => {
  it('outbound with and without a subset', () => {
    expect(parseClusterName('outbound|80|v1|reviews.default.svc.cluster.local')).toEqual({
      direction: 'outbound',
      port: 80,
      subset: 'v1',
      fqdn: 'reviews.default.svc.cluster.local',
    });
    expect(parseClusterName('outbound|9080||reviews.default.svc.cluster.local')).toEqual({
      direction: 'outbound',
      port: 9080,
      subset: '',
      fqdn: 'reviews.default.svc.cluster.local',
    });
  });
  it("inbound (istiod's inbound|<port>|| form)", () => {
    expect(parseClusterName('inbound|8080||')).toEqual({ direction: 'inbound', port: 8080, subset: '', fqdn: '' });
  });
  it('not a service cluster: null', () => {
    for (const name of [
      'PassthroughCluster',
      'BlackHoleCluster',
      'InboundPassthroughCluster',
      'sds-grpc',
      'xds-grpc',
      'outbound|x||a',
      'outbound|80|a',
      'other|80||a',
      'outbound|80||a|b',
    ]) {
      expect(parseClusterName(name), name).toBeNull();
    }
  });
});

describe('describeCluster', () => {
  it('subset, load balancing, connection limits, outlier detection, auto mTLS', () => {
    const c = cluster('outbound|80|v2|reviews.default.svc.cluster.local', {
      lbPolicy: 'LEAST_REQUEST',
      circuitBreakers: { thresholds: [{ maxConnections: 100, maxPendingRequests: 4294967295, maxRequests: 1, maxRetries: 4294967295 }] },
      outlierDetection: { consecutive5xx: 7, interval: '10s', baseEjectionTime: '30s' },
      transportSocketMatches: [{ name: 'tlsMode-istio' }, { name: 'tlsMode-disabled' }],
    });
    expect(describeCluster(c)).toEqual([
      'subset v2',
      'load balancer least request',
      'circuit breaking: max connections 100, max concurrent requests 1',
      'outlier detection: eject after 7 consecutive 5xx, every 10s, for 30s',
      'Istio mTLS to endpoints with a sidecar, plaintext to the others (auto mTLS)',
    ]);
  });

  it('consistent hash (RING_HASH, MAGLEV)', () => {
    expect(describeCluster(cluster('c', { lbPolicy: 'RING_HASH' }))).toContain('load balancer consistent hash (ring hash)');
    expect(describeCluster(cluster('c', { lbPolicy: 'MAGLEV' }))).toContain('load balancer consistent hash (maglev)');
  });

  it('an EDS cluster without lbPolicy is round robin; default thresholds (all max) say nothing', () => {
    const c = cluster('outbound|80||a.b.svc.cluster.local', {
      circuitBreakers: {
        thresholds: [{ maxConnections: 4294967295, maxPendingRequests: 4294967295, maxRequests: 4294967295, maxRetries: 4294967295 }],
      },
    });
    expect(describeCluster(c)).toEqual(['load balancer round robin']);
  });

  it('TLS origination: simple TLS with SNI, mutual TLS', () => {
    const simple = cluster('outbound|443||api.example.com', {
      type: 'STRICT_DNS',
      transportSocket: { typedConfig: { sni: 'api.example.com', commonTlsContext: {} } },
    });
    expect(describeCluster(simple)).toEqual(['TLS origination (SNI api.example.com)']);
    const mutual = cluster('outbound|443||api.example.com', {
      type: 'STRICT_DNS',
      transportSocket: { typedConfig: { commonTlsContext: { tlsCertificateSdsSecretConfigs: [{ name: 'file-cert' }] } } },
    });
    expect(describeCluster(mutual)).toEqual(['mutual TLS origination']);
  });

  it('outlier detection with only defaults', () => {
    expect(describeCluster(cluster('c', { type: 'STATIC', outlierDetection: {} }))).toEqual([
      'outlier detection: eject after 5 consecutive 5xx',
    ]);
  });
});

describe('istioConfigRef', () => {
  it('reads metadata.filterMetadata.istio.config', () => {
    expect(istioConfigRef(istioMeta('virtual-service', 'shop', 'reviews'))).toEqual({
      kind: 'VirtualService',
      namespace: 'shop',
      name: 'reviews',
    });
    expect(istioConfigRef(istioMeta('destination-rule', 'shop', 'reviews', { subset: 'v1' }))).toEqual({
      kind: 'DestinationRule',
      namespace: 'shop',
      name: 'reviews',
    });
    expect(
      istioConfigRef({
        filterMetadata: { istio: { config: '/apis/networking.istio.io/v1alpha3/namespaces/istio-system/service-entry/ext' } },
      }),
    ).toEqual({
      kind: 'ServiceEntry',
      namespace: 'istio-system',
      name: 'ext',
    });
  });

  it('no metadata, no istio key, no config, or an unparsable path: null', () => {
    expect(istioConfigRef(undefined)).toBeNull();
    expect(istioConfigRef({})).toBeNull();
    expect(istioConfigRef({ filterMetadata: { istio: { services: [] } } })).toBeNull();
    expect(istioConfigRef({ filterMetadata: { istio: { config: 42 } } })).toBeNull();
    expect(istioConfigRef({ filterMetadata: { istio: { config: '/apis/networking.istio.io/v1/virtual-service/x' } } })).toBeNull();
  });

  it('formatRef', () => {
    expect(formatRef({ kind: 'VirtualService', namespace: 'a', name: 'b' })).toBe('VirtualService a/b');
  });
});

describe('kubeProxyResolution (a client without a sidecar)', () => {
  const input: GeneratorInput = {
    meshConfig: '',
    istio: [],
    analysis: [],
    kubernetes: [
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web', namespace: 'shop' },
        spec: {
          clusterIP: '10.96.0.10',
          ports: [
            { name: 'http', port: 80 },
            { name: 'grpc', port: 9090 },
          ],
        },
      },
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'web-ipv4-0', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
        ports: [
          { name: 'http', port: 8080 },
          { name: 'grpc', port: 9091 },
        ],
        endpoints: [
          { addresses: ['10.0.0.2'], conditions: { ready: true } },
          { addresses: ['10.0.0.1'], conditions: { ready: true } },
          { addresses: ['10.0.0.3'], conditions: { ready: false } },
        ],
      },
      // Same name in another namespace: must not be mixed in.
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'other' }, spec: { ports: [{ name: 'http', port: 80 }] } },
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'web-x', namespace: 'other', labels: { 'kubernetes.io/service-name': 'web' } },
        ports: [{ name: 'http', port: 8080 }],
        endpoints: [{ addresses: ['10.9.9.9'], conditions: { ready: true } }],
      },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'empty', namespace: 'shop' }, spec: { ports: [{ name: 'http', port: 80 }] } },
    ],
  };

  it('error "no proxy", every name null, the trace says no Envoy sees it and lists the ready endpoints', () => {
    const r = kubeProxyResolution(input, 'shop', 'web', 80);
    expect(r).toMatchObject({
      listener: null,
      filterChain: null,
      routeConfig: null,
      virtualHost: null,
      route: null,
      cluster: null,
      weightedClusters: null,
      virtualService: null,
      destinationRule: null,
      error: 'no proxy',
    });
    expect(r.trace[0]!.stage).toBe('proxy');
    const kp = r.trace.find((t) => t.stage === 'kube-proxy')!.detail;
    expect(kp).toContain('Service shop/web (ClusterIP 10.96.0.10) port 80');
    expect(kp).toContain('2 endpoints: 10.0.0.1:8080, 10.0.0.2:8080');
    expect(kp).not.toContain('10.0.0.3');
    expect(kp).not.toContain('10.9.9.9');
  });

  it('finds the Service by short name, name.namespace, name.namespace.svc and FQDN (with a port), and maps the slice port by name', () => {
    for (const host of ['web', 'web.shop', 'web.shop.svc', 'web.shop.svc.cluster.local', 'web.shop.svc.cluster.local:9090']) {
      const r = kubeProxyResolution(input, host === 'web' ? 'shop' : 'default', host, 9090);
      expect(r.trace.find((t) => t.stage === 'kube-proxy')!.detail, host).toContain('10.0.0.1:9091, 10.0.0.2:9091');
    }
  });

  it("from another namespace the short name is that namespace's Service", () => {
    expect(kubeProxyResolution(input, 'other', 'web', 80).trace.at(-1)!.detail).toContain('10.9.9.9:8080');
  });

  it('an unknown host, a port the Service lacks, a Service without endpoints, no host', () => {
    expect(kubeProxyResolution(input, 'shop', 'example.com', 80).trace.at(-1)!.detail).toContain('names no Service');
    expect(kubeProxyResolution(input, 'shop', 'web', 81).trace.at(-1)!.detail).toContain('has no port 81');
    expect(kubeProxyResolution(input, 'shop', 'empty', 80).trace.at(-1)!.detail).toContain('no ready endpoints');
    expect(kubeProxyResolution(input, 'shop', undefined, 80).trace.at(-1)!.detail).toContain('destination IP alone');
  });
});
