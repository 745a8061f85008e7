// More of the Gateway API project's conformance suite (kubernetes-sigs/gateway-api v1.6.0,
// conformance/tests), with fixtures of our own for the same behaviours, beyond those of
// gateway-api-cases.test.ts: matches spread across routes, path match order, listener port
// matching, HTTP listener isolation, timeouts, retries, CORS, GRPCRoute methods, headers, weights
// and listener hostnames, TLSRoute hostname intersection and mixed termination, TCP and TLS
// weights, ListenerSets, Services without a cluster IP, refused backends, and the status istiod
// writes on Gateways and their listeners (attached routes, refused route kinds, missing
// certificates).
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_STATUS, RESOLVE, type Condition, type Resolution } from '../support/gateway-api.js';
import { httpRoute, k8sGateway, namespace, service, yaml, type Manifest } from '../support/mesh.js';
import { uploadSnapshot, waitReady, useTestApp } from '../support/test-app.js';

const NS = 'conf';
const svc = (name: string, ns = NS, options: { clusterIP?: string } = {}) => service(ns, name, [{ name: 'http', port: 8080 }], options);
const backend = (name: string, extra: Record<string, unknown> = {}) => ({ name, port: 8080, ...extra });
const prefix = (value: string) => ({ path: { type: 'PathPrefix', value } });
const exact = (value: string) => ({ path: { type: 'Exact', value } });
const http = (name: string, port = 80, extra: Record<string, unknown> = {}) => ({ name, port, protocol: 'HTTP', ...extra });
const fromAll = { namespaces: { from: 'All' } };
/** A match on every one of the headers, given as [name, value] pairs (Exact). */
const headerMatch = (...pairs: [string, string][]) => ({ headers: pairs.map(([name, value]) => ({ name, value })) });

const grpcRoute = (name: string, spec: Record<string, unknown>): Manifest => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'GRPCRoute',
  metadata: { name, namespace: NS },
  spec,
});

/** A TLS Secret with a self-signed certificate for *.example.com (its key is a throwaway, made for this test). */
const tlsSecret = (ns: string, name: string, data: Record<string, string> = { 'tls.crt': CERTIFICATE, 'tls.key': KEY }): Manifest => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: ns },
  data,
});
const CERTIFICATE =
  'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJoakNDQVMyZ0F3SUJBZ0lVZHRtTkVNSktaMnhqNXpjNENOUXl0OXNja3ZFd0NnWUlLb1pJemowRUF3SXcKR0RFV01CUUdBMVVFQXd3TktpNWxlR0Z0Y0d4bExtTnZiVEFnRncweU5qRXlNREl4TnpVek1qSmFHQTh5TVRJMgpNVEV3T0RFM05UTXlNbG93R0RFV01CUUdBMVVFQXd3TktpNWxlR0Z0Y0d4bExtTnZiVEJaTUJNR0J5cUdTTTQ5CkFnRUdDQ3FHU000OUF3RUhBMElBQklmSlZNRENXblEzWFUrNHo4Q2VwTWo1L3k2bE1aSTdjcy9EZEVnc0JQTXEKRnYvZkJDa3ZabUhwbDJNT0JSdkovR0F2Tys2YzdGMm1mRGYrMHFnT2lyNmpVekJSTUIwR0ExVWREZ1FXQkJRSwpGR2U3eTl1NG02NGhqSTRNUlIvM29TNW4zakFmQmdOVkhTTUVHREFXZ0JRS0ZHZTd5OXU0bTY0aGpJNE1SUi8zCm9TNW4zakFQQmdOVkhSTUJBZjhFQlRBREFRSC9NQW9HQ0NxR1NNNDlCQU1DQTBjQU1FUUNJRHRLSU8vdkd3cVcKNm1nRkdXOWc4ZTRIdzdTcWxGbXZNUVJUbGRHM0hRanVBaUFScEJnYmhKN3B1QnFoMmxhOXl6d01HZVd4cnRtbQpscGFibWZvbmk5bFJ2Zz09Ci0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K';
const KEY =
  'LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JR0hBZ0VBTUJNR0J5cUdTTTQ5QWdFR0NDcUdTTTQ5QXdFSEJHMHdhd0lCQVFRZ0xkb1BnV2FnbXFlTUpZZHcKVnd3b1pZNlZmOWRuditsRE5sbXhFNHBUQ01PaFJBTkNBQVNIeVZUQXdscDBOMTFQdU0vQW5xVEkrZjh1cFRHUwpPM0xQdzNSSUxBVHpLaGIvM3dRcEwyWmg2WmRqRGdVYnlmeGdMenZ1bk94ZHBudzMvdEtvRG9xKwotLS0tLUVORCBQUklWQVRFIEtFWS0tLS0tCg==';

/** A ReferenceGrant in `ns` letting the `fromKind` objects of NS refer to the core object `to`. */
const referenceGrant = (ns: string, name: string, fromKind: string, to: { kind: string; name: string }): Manifest => ({
  apiVersion: 'gateway.networking.k8s.io/v1beta1',
  kind: 'ReferenceGrant',
  metadata: { name, namespace: ns },
  spec: { from: [{ group: 'gateway.networking.k8s.io', kind: fromKind, namespace: NS }], to: [{ group: '', ...to }] },
});

/** The listener hostname (none: empty) of each Gateway of TLSRouteHostnameIntersection. */
const TLS_LISTENER_HOSTNAMES: Record<string, string | undefined> = {
  'tls-exact': 'abc.example.com',
  'tls-wildcard': '*.example.com',
  'tls-wider': '*.com',
  'tls-empty': undefined,
};

/** A TLSRoute of NS on `gateway`, passing connections for `hostnames` through to `backendName`'s `port`. */
const tlsRoute = (name: string, gateway: string, hostnames: string[], backendName: string, port = 443): Manifest => ({
  apiVersion: 'gateway.networking.k8s.io/v1alpha2',
  kind: 'TLSRoute',
  metadata: { name, namespace: NS },
  spec: { parentRefs: [{ name: gateway }], hostnames, rules: [{ backendRefs: [{ name: backendName, port }] }] },
});

/** The gRPC service of the Gateway API conformance suite's echo server. */
const GRPC_ECHO = 'gateway_api_conformance.echo_basic.grpcecho.GrpcEcho';

/** A GRPCRoute rule for `method` of GRPC_ECHO, changing the request's headers, to `to`. */
const modifiedEchoRule = (method: string, requestHeaderModifier: Record<string, unknown>, to: string) => ({
  matches: [{ method: { service: GRPC_ECHO, method } }],
  filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier }],
  backendRefs: [backend(to)],
});

/** A parentRef naming a ListenerSet of NS. */
const listenerSet = (name: string) => ({ group: 'gateway.networking.k8s.io', kind: 'ListenerSet', name });

const MANIFESTS = yaml(
  namespace(NS),
  namespace('web', { labels: { 'conformance-route-ns': 'web' } }),
  namespace('certs', { injection: false }),
  namespace('apps'),
  svc('v1'),
  svc('v2'),
  svc('v3'),
  svc('headless', NS, { clusterIP: 'None' }),
  svc('app-v1', 'apps'),
  svc('app-v2', 'apps'),
  service(NS, 'grpc', [{ name: 'grpc', port: 9000 }]),
  k8sGateway(NS, 'same', { listeners: [http('http')] }),
  // HTTPRouteMatchingAcrossRoutes
  httpRoute(NS, 'across-1', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['example.com', 'example.net'],
    rules: [{ matches: [prefix('/'), { headers: [{ name: 'version', value: 'one' }] }], backendRefs: [backend('v1')] }],
  }),
  httpRoute(NS, 'across-2', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['example.com'],
    rules: [{ matches: [prefix('/v2'), { headers: [{ name: 'version', value: 'two' }] }], backendRefs: [backend('v2')] }],
  }),
  // HTTPRoutePathMatchOrder
  httpRoute(NS, 'order', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['order.example.com'],
    rules: [
      { matches: [exact('/match')], backendRefs: [backend('v1')] },
      { matches: [exact('/match/exact')], backendRefs: [backend('v2')] },
      { matches: [exact('/match/exact/one')], backendRefs: [backend('v3')] },
      { matches: [prefix('/match/')], backendRefs: [backend('v3')] },
      { matches: [prefix('/match/prefix/')], backendRefs: [backend('v1')] },
      { matches: [prefix('/match/prefix/one')], backendRefs: [backend('v2')] },
    ],
  }),
  // HTTPRouteHeaderMatching: every header of a match, and the match with more headers first
  httpRoute(NS, 'headers', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['headers.example.com'],
    rules: [
      { matches: [{ headers: [{ name: 'version', value: 'one' }] }], backendRefs: [backend('v1')] },
      { matches: [headerMatch(['version', 'one'], ['color', 'orange'])], backendRefs: [backend('v2')] },
    ],
  }),
  // HTTPRouteInvalidNonExistentBackendRef
  httpRoute(NS, 'missing', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['missing.example.com'],
    rules: [{ backendRefs: [backend('nonexistent')] }],
  }),
  // HTTPRoutePartiallyInvalidViaInvalidReferenceGrant: the grant names app-v1 only
  referenceGrant('apps', 'v1-only', 'HTTPRoute', { kind: 'Service', name: 'app-v1' }),
  httpRoute(NS, 'partial', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['partial.example.com'],
    rules: [
      { matches: [prefix('/v2')], backendRefs: [backend('app-v2', { namespace: 'apps' })] },
      { backendRefs: [backend('app-v1', { namespace: 'apps' })] },
    ],
  }),
  // HTTPRouteTimeoutRequest, HTTPRouteTimeoutBackendRequest
  httpRoute(NS, 'timeouts', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['timeout.example.com'],
    rules: [
      { matches: [prefix('/request-timeout')], backendRefs: [backend('v1')], timeouts: { request: '500ms' } },
      { matches: [prefix('/backend-timeout')], backendRefs: [backend('v1')], timeouts: { backendRequest: '500ms' } },
      { matches: [prefix('/disable')], backendRefs: [backend('v1')], timeouts: { request: '0s' } },
    ],
  }),
  // HTTPRouteServiceTypes: a headless Service
  httpRoute(NS, 'headless', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['headless.example.com'],
    rules: [{ backendRefs: [backend('headless')] }],
  }),
  // GRPCRouteExactMethodMatching
  grpcRoute('grpc', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['grpc.example.com'],
    rules: [
      { matches: [{ method: { service: 'meshlens.Echo', method: 'Ping' } }], backendRefs: [{ name: 'grpc', port: 9000 }] },
      { matches: [{ method: { service: 'meshlens.Echo', method: 'Pong' } }], backendRefs: [backend('v2')] },
    ],
  }),
  // HTTPRouteListenerPortMatching
  k8sGateway(NS, 'ports', {
    listeners: [
      http('listener-1', 80, { hostname: 'foo.com' }),
      http('listener-2', 8080, { hostname: 'foo.com' }),
      http('listener-3', 8080, { hostname: 'bar.com' }),
      http('listener-4', 8090, { hostname: 'foo.com' }),
      http('listener-5', 8090, { hostname: 'bar.com' }),
    ],
  }),
  httpRoute(NS, 'port-80', { parentRefs: [{ name: 'ports', port: 80 }], rules: [{ backendRefs: [backend('v1')] }] }),
  httpRoute(NS, 'port-8080', { parentRefs: [{ name: 'ports', port: 8080 }], rules: [{ backendRefs: [backend('v2')] }] }),
  httpRoute(NS, 'port-8090', {
    parentRefs: [{ name: 'ports', port: 8090 }],
    hostnames: ['foo.com'],
    rules: [{ backendRefs: [backend('v3')] }],
  }),
  // GatewayHTTPListenerIsolation
  k8sGateway(NS, 'isolation', {
    listeners: [
      http('empty-hostname', 80, { allowedRoutes: fromAll }),
      http('wildcard-example-com', 80, { hostname: '*.example.com', allowedRoutes: fromAll }),
      http('wildcard-foo-example-com', 80, { hostname: '*.foo.example.com', allowedRoutes: fromAll }),
      http('abc-foo-example-com', 80, { hostname: 'abc.foo.example.com', allowedRoutes: fromAll }),
    ],
  }),
  ...['empty-hostname', 'wildcard-example-com', 'wildcard-foo-example-com', 'abc-foo-example-com'].map((listener) =>
    httpRoute(NS, `to-${listener}`, {
      parentRefs: [{ name: 'isolation', sectionName: listener }],
      rules: [{ matches: [prefix(`/${listener}`)], backendRefs: [backend('v1')] }],
    }),
  ),
  // HTTPRouteDisallowedKind
  k8sGateway(NS, 'tls-only', {
    listeners: [
      { name: 'tls', port: 443, protocol: 'TLS', tls: { mode: 'Passthrough' }, allowedRoutes: { kinds: [{ kind: 'TLSRoute' }] } },
    ],
  }),
  httpRoute(NS, 'disallowed', { parentRefs: [{ name: 'tls-only' }], rules: [{ backendRefs: [backend('v1')] }] }),
  // GatewayInvalidRouteKind, GatewayInvalidTLSConfiguration, GatewayWithAttachedRoutes
  k8sGateway(NS, 'refused', {
    listeners: [
      http('only-invalid', 80, { allowedRoutes: { kinds: [{ kind: 'InvalidRoute' }] } }),
      http('some-invalid', 81, { allowedRoutes: { kinds: [{ kind: 'InvalidRoute' }, { kind: 'HTTPRoute' }] } }),
      {
        name: 'https',
        port: 443,
        protocol: 'HTTPS',
        hostname: 'secure.example.com',
        tls: { certificateRefs: [{ name: 'nonexistent-certificate' }] },
      },
      http('attached', 82, { hostname: 'attached.example.com' }),
    ],
  }),
  httpRoute(NS, 'attached-1', { parentRefs: [{ name: 'refused', sectionName: 'attached' }], rules: [{ backendRefs: [backend('v1')] }] }),
  httpRoute(NS, 'attached-2', {
    parentRefs: [{ name: 'refused', sectionName: 'attached' }],
    hostnames: ['attached.example.com'],
    rules: [{ backendRefs: [backend('v2')] }],
  }),
  httpRoute(NS, 'not-attached', {
    parentRefs: [{ name: 'refused', sectionName: 'attached' }],
    hostnames: ['other.example.org'],
    rules: [{ backendRefs: [backend('v2')] }],
  }),
  // HTTPRouteCrossNamespace: a listener taking routes of the namespaces a selector picks
  k8sGateway(NS, 'selected', {
    listeners: [
      http('http', 80, {
        allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: { 'conformance-route-ns': 'web' } } } },
      }),
    ],
  }),
  httpRoute('web', 'cross', {
    parentRefs: [{ name: 'selected', namespace: NS }],
    rules: [{ backendRefs: [backend('web-backend')] }],
  }),
  service('web', 'web-backend', [{ name: 'http', port: 8080 }]),
  httpRoute(NS, 'unselected', {
    parentRefs: [{ name: 'selected' }],
    hostnames: ['unselected.example.com'],
    rules: [{ backendRefs: [backend('v1')] }],
  }),
  // HTTPRoute303Redirect, ...307Redirect, ...308Redirect, HTTPRouteRequestMultipleMirrors, HTTPRouteRequestPercentageMirror
  httpRoute(NS, 'codes', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['codes.example.com'],
    rules: [
      ...[303, 307, 308].map((statusCode) => ({
        matches: [prefix(`/${statusCode}`)],
        filters: [{ type: 'RequestRedirect', requestRedirect: { hostname: 'moved.example.com', statusCode } }],
      })),
      {
        matches: [prefix('/mirrors')],
        filters: [
          { type: 'RequestMirror', requestMirror: { backendRef: backend('v2') } },
          { type: 'RequestMirror', requestMirror: { backendRef: backend('v3'), percent: 35 } },
        ],
        backendRefs: [backend('v1')],
      },
    ],
  }),
  // TCPRouteInvalidNonTCPListener
  {
    apiVersion: 'gateway.networking.k8s.io/v1alpha2',
    kind: 'TCPRoute',
    metadata: { name: 'tcp-on-http', namespace: NS },
    spec: { parentRefs: [{ name: 'same' }], rules: [{ backendRefs: [backend('v1')] }] },
  },
  // HTTPRouteHTTPSListener, GatewaySecretReferenceGrant*, GatewaySecretMissingReferenceGrant, GatewayInvalidTLSConfiguration (malformed)
  tlsSecret(NS, 'example-cert'),
  tlsSecret('certs', 'granted-cert'),
  tlsSecret('certs', 'ungranted-cert'),
  tlsSecret(NS, 'malformed-cert', { 'tls.crt': Buffer.from('not a certificate').toString('base64'), 'tls.key': KEY }),
  referenceGrant('certs', 'gateway-certs', 'Gateway', { kind: 'Secret', name: 'granted-cert' }),
  k8sGateway(NS, 'secure', {
    listeners: [
      { name: 'https', port: 443, protocol: 'HTTPS', hostname: 'a.example.com', tls: { certificateRefs: [{ name: 'example-cert' }] } },
      {
        name: 'granted',
        port: 443,
        protocol: 'HTTPS',
        hostname: 'b.example.com',
        tls: { certificateRefs: [{ name: 'granted-cert', namespace: 'certs' }] },
      },
      {
        name: 'ungranted',
        port: 443,
        protocol: 'HTTPS',
        hostname: 'c.example.com',
        tls: { certificateRefs: [{ name: 'ungranted-cert', namespace: 'certs' }] },
      },
      {
        name: 'malformed',
        port: 443,
        protocol: 'HTTPS',
        hostname: 'd.example.com',
        tls: { certificateRefs: [{ name: 'malformed-cert' }] },
      },
    ],
  }),
  httpRoute(NS, 'secure', { parentRefs: [{ name: 'secure', sectionName: 'https' }], rules: [{ backendRefs: [backend('v1')] }] }),
  httpRoute(NS, 'secure-granted', { parentRefs: [{ name: 'secure', sectionName: 'granted' }], rules: [{ backendRefs: [backend('v2')] }] }),
  // HTTPRouteBackendProtocolH2C, HTTPRouteBackendProtocolWebSocket
  service(NS, 'h2c', [{ name: 'h2c', port: 8081, appProtocol: 'kubernetes.io/h2c' }]),
  service(NS, 'ws', [{ name: 'ws', port: 8082, appProtocol: 'kubernetes.io/ws' }]),
  httpRoute(NS, 'protocols', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['protocols.example.com'],
    rules: [
      { matches: [prefix('/h2c')], backendRefs: [{ name: 'h2c', port: 8081 }] },
      { matches: [prefix('/ws')], backendRefs: [{ name: 'ws', port: 8082 }] },
    ],
  }),
  // GRPCRouteHeaderMatching
  grpcRoute('grpc-headers', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['grpc-headers.example.com'],
    rules: [
      { matches: [{ headers: [{ name: 'version', value: 'one' }] }], backendRefs: [backend('v1')] },
      { matches: [{ headers: [{ name: 'version', value: 'two' }] }], backendRefs: [backend('v2')] },
      { matches: [headerMatch(['version', 'two'], ['color', 'orange'])], backendRefs: [backend('v1')] },
      {
        matches: [{ headers: [{ name: 'color', value: 'blue' }] }, { headers: [{ name: 'color', value: 'green' }] }],
        backendRefs: [backend('v1')],
      },
      {
        matches: [{ headers: [{ name: 'color', value: 'red' }] }, { headers: [{ name: 'color', value: 'yellow' }] }],
        backendRefs: [backend('v2')],
      },
    ],
  }),
  // Istio's own GRPCRoute conversion case (pilot/pkg/config/kube/gateway/testdata/grpc.yaml): a
  // service-only match with a header, a RegularExpression method match, a RequestHeaderModifier
  grpcRoute('grpc-service', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['grpc-service.example.com'],
    rules: [
      {
        matches: [{ method: { service: 'foo' }, headers: [{ name: 'my-header', value: 'some-value', type: 'Exact' }] }],
        filters: [
          {
            type: 'RequestHeaderModifier',
            requestHeaderModifier: { add: [{ name: 'my-added-header', value: 'added-value' }], remove: ['my-removed-header'] },
          },
        ],
        backendRefs: [backend('v1')],
      },
      { matches: [{ method: { type: 'RegularExpression', method: 'bar' } }], backendRefs: [backend('v2')] },
    ],
  }),
  // GRPCRouteRequestHeaderModifier: three rules on one method (the first serves it), a fourth on another
  grpcRoute('grpc-modifier', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['grpc-modifier.example.com'],
    rules: [
      modifiedEchoRule('Echo', { set: [{ name: 'X-Header-Set', value: 'set-overwrites-values' }] }, 'v1'),
      modifiedEchoRule('Echo', { add: [{ name: 'X-Header-Add', value: 'add-appends-values' }] }, 'v1'),
      modifiedEchoRule('Echo', { remove: ['X-Header-Remove'] }, 'v1'),
      modifiedEchoRule(
        'EchoTwo',
        {
          set: [
            { name: 'X-Header-Set-1', value: 'header-set-1' },
            { name: 'X-Header-Set-2', value: 'header-set-2' },
          ],
          add: [
            { name: 'X-Header-Add-1', value: 'header-add-1' },
            { name: 'X-Header-Add-2', value: 'header-add-2' },
          ],
          remove: ['X-Header-Remove-1', 'X-Header-Remove-2'],
        },
        'v2',
      ),
    ],
  }),
  // GRPCRouteWeight
  grpcRoute('grpc-weights', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['grpc-weights.example.com'],
    rules: [{ backendRefs: [backend('v1', { weight: 70 }), backend('v2', { weight: 30 }), backend('v3', { weight: 0 })] }],
  }),
  // GRPCRouteListenerHostnameMatching
  k8sGateway(NS, 'grpc-hostnames', {
    listeners: [
      http('listener-1', 80, { hostname: 'bar.com' }),
      http('listener-2', 80, { hostname: 'foo.bar.com' }),
      http('listener-3', 80, { hostname: '*.bar.com' }),
      http('listener-4', 80, { hostname: '*.foo.com' }),
    ],
  }),
  grpcRoute('grpc-listener-1', {
    parentRefs: [{ name: 'grpc-hostnames', sectionName: 'listener-1' }],
    rules: [{ backendRefs: [backend('v1')] }],
  }),
  grpcRoute('grpc-listener-2', {
    parentRefs: [{ name: 'grpc-hostnames', sectionName: 'listener-2' }],
    rules: [{ backendRefs: [backend('v2')] }],
  }),
  grpcRoute('grpc-listeners-3-4', {
    parentRefs: [
      { name: 'grpc-hostnames', sectionName: 'listener-3' },
      { name: 'grpc-hostnames', sectionName: 'listener-4' },
    ],
    rules: [{ backendRefs: [backend('v3')] }],
  }),
  // TLSRouteHostnameIntersection: four Gateways, their listener hostnames exact, wildcard, wider wildcard, empty
  service(NS, 'tls-backend', [{ name: 'tls', port: 443 }]),
  service(NS, 'tls-backend-2', [{ name: 'tls', port: 443 }]),
  ...Object.entries(TLS_LISTENER_HOSTNAMES).map(([gateway, hostname]) =>
    k8sGateway(NS, gateway, {
      listeners: [
        {
          name: 'tls',
          port: 443,
          protocol: 'TLS',
          ...(hostname ? { hostname } : {}),
          tls: { mode: 'Passthrough' },
          allowedRoutes: { kinds: [{ kind: 'TLSRoute' }] },
        },
      ],
    }),
  ),
  tlsRoute('tls-exact-wildcard', 'tls-exact', ['*.example.com'], 'tls-backend'),
  tlsRoute('tls-wildcard-exact', 'tls-wildcard', ['abc.example.com'], 'tls-backend'),
  tlsRoute('tls-wildcard-wider', 'tls-wildcard', ['*.com'], 'tls-backend-2'),
  tlsRoute('tls-wider-exact', 'tls-wider', ['abc.example.com'], 'tls-backend'),
  tlsRoute('tls-wider-wildcard', 'tls-wider', ['*.example.com'], 'tls-backend-2'),
  tlsRoute('tls-empty-exact', 'tls-empty', ['abc.example.com'], 'tls-backend'),
  tlsRoute('tls-empty-wider', 'tls-empty', ['*.com'], 'tls-backend-2'),
  // TCPRouteWeightedRouting, and its weights on a TLSRoute of two hostnames (TLS passthrough to several backends)
  service(NS, 'tcp-v1', [{ name: 'tcp', port: 3000 }]),
  service(NS, 'tcp-v2', [{ name: 'tcp', port: 3000 }]),
  service(NS, 'tcp-v3', [{ name: 'tcp', port: 3000 }]),
  k8sGateway(NS, 'weights', {
    listeners: [
      { name: 'tcp', port: 9000, protocol: 'TCP', allowedRoutes: { kinds: [{ kind: 'TCPRoute' }] } },
      { name: 'tls', port: 443, protocol: 'TLS', tls: { mode: 'Passthrough' }, allowedRoutes: { kinds: [{ kind: 'TLSRoute' }] } },
    ],
  }),
  {
    apiVersion: 'gateway.networking.k8s.io/v1alpha2',
    kind: 'TCPRoute',
    metadata: { name: 'tcp-weights', namespace: NS },
    spec: {
      parentRefs: [{ name: 'weights', sectionName: 'tcp' }],
      rules: [
        {
          backendRefs: [
            { name: 'tcp-v1', port: 3000, weight: 70 },
            { name: 'tcp-v2', port: 3000, weight: 30 },
            { name: 'tcp-v3', port: 3000, weight: 0 },
          ],
        },
      ],
    },
  },
  {
    apiVersion: 'gateway.networking.k8s.io/v1alpha2',
    kind: 'TLSRoute',
    metadata: { name: 'tls-weights', namespace: NS },
    spec: {
      parentRefs: [{ name: 'weights', sectionName: 'tls' }],
      hostnames: ['one.example.com', 'two.example.com'],
      rules: [
        {
          backendRefs: [
            { name: 'tls-backend', port: 443, weight: 70 },
            { name: 'tls-backend-2', port: 443, weight: 30 },
          ],
        },
      ],
    },
  },
  // TLSRouteMixedTerminationSameNamespace: one port, a listener terminating TLS and one passing it through
  service(NS, 'tcp-backend', [
    { name: 'tcp', port: 3000 },
    { name: 'tls', port: 8443 },
  ]),
  k8sGateway(NS, 'mixed-termination', {
    listeners: [
      {
        name: 'tls-terminate',
        port: 8883,
        protocol: 'TLS',
        hostname: 'tls.example.com',
        allowedRoutes: { kinds: [{ kind: 'TLSRoute' }] },
        tls: { mode: 'Terminate', certificateRefs: [{ name: 'example-cert' }] },
      },
      {
        name: 'tls-passthrough',
        port: 8883,
        protocol: 'TLS',
        hostname: 'abc.example.com',
        allowedRoutes: { kinds: [{ kind: 'TLSRoute' }] },
        tls: { mode: 'Passthrough' },
      },
    ],
  }),
  tlsRoute('mixed-passthrough', 'mixed-termination', ['abc.example.com'], 'tcp-backend', 8443),
  tlsRoute('mixed-terminate', 'mixed-termination', ['tls.example.com'], 'tcp-backend', 3000),
  // TLSRouteInvalidNoMatchingListenerHostname, TLSRouteInvalidBackendRefNonexistent
  tlsRoute('tls-mismatch-exact', 'tls-exact', ['www.nomatch.com', '*.nomatch.com'], 'tls-backend'),
  tlsRoute('tls-mismatch-wildcard', 'tls-wildcard', ['www.different.com', '*.different.com'], 'tls-backend'),
  tlsRoute('tls-nonexistent', 'tls-empty', ['example.com'], 'nonexistent'),
  // TCPRouteMultipleRoutesAttachment: two TCPRoutes on one TCP listener, the older one served
  service(NS, 'tcp-attach-1', [{ name: 'tcp', port: 3000 }]),
  service(NS, 'tcp-attach-2', [{ name: 'tcp', port: 3000 }]),
  k8sGateway(NS, 'tcp-attach', {
    listeners: [
      { name: 'tcp', port: 9310, protocol: 'TCP', allowedRoutes: { kinds: [{ group: 'gateway.networking.k8s.io', kind: 'TCPRoute' }] } },
    ],
  }),
  ...[
    ['tcproute-attach-older', 'tcp-attach-1', '2026-01-01T00:00:00Z'],
    ['tcproute-attach-newer', 'tcp-attach-2', '2026-01-01T00:00:01Z'],
  ].map(([name, backendName, creationTimestamp]) => ({
    apiVersion: 'gateway.networking.k8s.io/v1alpha2',
    kind: 'TCPRoute',
    metadata: { name, namespace: NS, creationTimestamp },
    spec: { parentRefs: [{ name: 'tcp-attach', sectionName: 'tcp' }], rules: [{ backendRefs: [{ name: backendName, port: 3000 }] }] },
  })),
  // ListenerSetHTTPRouting: a Gateway taking the listeners of two ListenerSets, routes on either
  k8sGateway(NS, 'with-sets', {
    listeners: [
      http('gateway-listener-1', 80, { hostname: 'gateway-listener-1.com', allowedRoutes: fromAll }),
      http('gateway-listener-2', 80, { hostname: 'gateway-listener-2.com', allowedRoutes: fromAll }),
    ],
    allowedListeners: { namespaces: { from: 'All' } },
  }),
  ...['set-1', 'set-2'].map((set) => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'ListenerSet',
    metadata: { name: set, namespace: NS },
    spec: {
      parentRef: { kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'with-sets', namespace: NS },
      listeners: [1, 2].map((n) => http(`${set}-listener-${n}`, 80, { hostname: `${set}-listener-${n}.com`, allowedRoutes: fromAll })),
    },
  })),
  // ListenerSetDefaultNotAllowed: a Gateway that does not say allowedListeners takes none
  k8sGateway(NS, 'no-sets', { listeners: [http('gateway-listener', 80, { hostname: 'gateway-listener.com', allowedRoutes: fromAll })] }),
  {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'ListenerSet',
    metadata: { name: 'not-allowed', namespace: NS },
    spec: {
      parentRef: { kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'no-sets', namespace: NS },
      listeners: [http('not-allowed-listener', 80, { hostname: 'not-allowed-listener.com', allowedRoutes: fromAll })],
    },
  },
  // ListenerSetAllowedNamespaceSame: a Gateway taking the ListenerSets of its own namespace only
  namespace('sets-elsewhere'),
  k8sGateway(NS, 'same-ns-sets', {
    listeners: [http('gateway-listener', 80, { hostname: 'gateway-listener.com', allowedRoutes: fromAll })],
    allowedListeners: { namespaces: { from: 'Same' } },
  }),
  ...[NS, 'sets-elsewhere'].map((ns) => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'ListenerSet',
    metadata: { name: `set-in-${ns}`, namespace: ns },
    spec: {
      parentRef: { kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'same-ns-sets', namespace: NS },
      listeners: [http(`set-in-${ns}-listener`, 80, { hostname: `set-in-${ns}-listener.com`, allowedRoutes: fromAll })],
    },
  })),
  // ListenerSetGatewayParentSectionNameNotFound: a Gateway parentRef cannot name a ListenerSet's listener
  k8sGateway(NS, 'section-name', {
    listeners: [http('gw-listener', 80, { hostname: 'gw-section.com' })],
    allowedListeners: { namespaces: { from: 'Same' } },
  }),
  {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'ListenerSet',
    metadata: { name: 'set-section-name', namespace: NS },
    spec: {
      parentRef: { kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'section-name', namespace: NS },
      listeners: [http('ls-only-listener', 80, { hostname: 'ls-section-name.com' })],
    },
  },
  httpRoute(NS, 'route-via-listenerset', {
    parentRefs: [{ ...listenerSet('set-section-name'), sectionName: 'ls-only-listener' }],
    rules: [{ matches: [prefix('/goodsection')], backendRefs: [backend('v1')] }],
  }),
  httpRoute(NS, 'route-via-gateway', {
    parentRefs: [{ name: 'section-name', sectionName: 'ls-only-listener' }],
    rules: [{ matches: [prefix('/badsection')], backendRefs: [backend('v2')] }],
  }),
  httpRoute(NS, 'to-all-listeners', {
    parentRefs: [{ name: 'with-sets' }, listenerSet('set-1'), listenerSet('set-2')],
    rules: [{ matches: [prefix('/route')], backendRefs: [backend('v1')] }],
  }),
  httpRoute(NS, 'gateway-route', {
    parentRefs: [{ name: 'with-sets' }],
    rules: [{ matches: [prefix('/gateway-route')], backendRefs: [backend('v2')] }],
  }),
  httpRoute(NS, 'gateway-section-route', {
    parentRefs: [{ name: 'with-sets', sectionName: 'gateway-listener-1' }],
    rules: [{ matches: [prefix('/gateway-section-route')], backendRefs: [backend('v3')] }],
  }),
  httpRoute(NS, 'set-1-route', {
    parentRefs: [listenerSet('set-1')],
    rules: [{ matches: [prefix('/set-1-route')], backendRefs: [backend('v2')] }],
  }),
  httpRoute(NS, 'set-1-section-route', {
    parentRefs: [{ ...listenerSet('set-1'), sectionName: 'set-1-listener-1' }],
    rules: [{ matches: [prefix('/set-1-section-route')], backendRefs: [backend('v3')] }],
  }),
  httpRoute(NS, 'set-2-route', {
    parentRefs: [listenerSet('set-2')],
    rules: [{ matches: [prefix('/set-2-route')], backendRefs: [backend('v2')] }],
  }),
  // HTTPRouteRequestHeaderModifierBackendWeights, HTTPRouteNoBackendRefs, HTTPRouteNamedRule
  httpRoute(NS, 'backend-headers', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['backend-headers.example.com'],
    rules: [
      {
        backendRefs: ['v1', 'v2'].map((name) =>
          backend(name, {
            weight: 10,
            filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'Backend', value: name }] } }],
          }),
        ),
      },
    ],
  }),
  httpRoute(NS, 'omitted-backendrefs', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['omitted.example.com'],
    rules: [
      { matches: [exact('/omitted-no-forward')] },
      { matches: [exact('/empty-no-forward')], backendRefs: [] },
      { matches: [prefix('/')], backendRefs: [backend('v1')] },
    ],
  }),
  httpRoute(NS, 'named-rules', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['named.example.com'],
    rules: [
      { name: 'named-rule', matches: [prefix('/named')], backendRefs: [backend('v1')] },
      { matches: [prefix('/unnamed')], backendRefs: [backend('v2')] },
    ],
  }),
  // HTTPRouteRetry
  httpRoute(NS, 'retries', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['retry.example.com'],
    rules: [
      { matches: [prefix('/retry/code-500-attempts-3')], retry: { codes: [500], attempts: 3 }, backendRefs: [backend('v3')] },
      {
        matches: [prefix('/retry/code-all-attempts-2')],
        retry: { codes: [500, 502, 503, 504], attempts: 2 },
        backendRefs: [backend('v3')],
      },
    ],
  }),
  // HTTPRouteRetryWithTimeouts
  httpRoute(NS, 'retries-with-timeouts', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['retry-timeouts.example.com'],
    rules: [
      {
        matches: [prefix('/retry/backend-request-timeout-200ms')],
        retry: { attempts: 2 },
        timeouts: { backendRequest: '200ms' },
        backendRefs: [backend('v3')],
      },
      {
        matches: [prefix('/retry/request-timeout-200ms')],
        retry: { codes: [500], attempts: 5 },
        timeouts: { backendRequest: '200ms', request: '400ms' },
        backendRefs: [backend('v3')],
      },
    ],
  }),
  // HTTPRouteMultipleGateways: one route on two Gateways, each with a route of its own too
  k8sGateway(NS, 'shared-a', { listeners: [http('http')] }),
  k8sGateway(NS, 'shared-b', { listeners: [http('http', 80, { allowedRoutes: fromAll })] }),
  httpRoute(NS, 'shared-route', {
    parentRefs: [{ name: 'shared-a' }, { name: 'shared-b' }],
    rules: [{ matches: [prefix('/shared')], backendRefs: [backend('v1')] }],
  }),
  httpRoute(NS, 'shared-a-route', {
    parentRefs: [{ name: 'shared-a' }],
    rules: [{ matches: [prefix('/')], backendRefs: [backend('v2')] }],
  }),
  httpRoute(NS, 'shared-b-route', {
    parentRefs: [{ name: 'shared-b' }],
    rules: [{ matches: [prefix('/')], backendRefs: [backend('v3')] }],
  }),
  // HTTPRouteCORS
  httpRoute(NS, 'cors', {
    parentRefs: [{ name: 'same' }],
    hostnames: ['cors.example.com'],
    rules: [
      {
        matches: [prefix('/cors-1')],
        filters: [
          {
            type: 'CORS',
            cors: {
              allowOrigins: ['https://www.foo.com', 'https://*.bar.com'],
              allowMethods: ['GET', 'OPTIONS'],
              allowHeaders: ['x-header-1', 'x-header-2'],
              exposeHeaders: ['x-header-3', 'x-header-4'],
              allowCredentials: true,
              maxAge: 3600,
            },
          },
        ],
        backendRefs: [backend('v1')],
      },
      {
        matches: [prefix('/cors-2')],
        filters: [{ type: 'CORS', cors: { allowOrigins: ['https://www.foo.com'], allowMethods: ['*'] } }],
        backendRefs: [backend('v1')],
      },
    ],
  }),
);

interface ListenerStatus {
  name: string;
  attachedRoutes: number;
  supportedKinds: { group?: string; kind: string }[];
  conditions: { type: string; status: string; reason: string }[];
}

interface Status {
  kind: string;
  namespace: string;
  name: string;
  conditions: Condition[];
  status: { listeners?: ListenerStatus[]; attachedListenerSets?: number };
}

const cluster = (name: string, port = 8080, ns = NS) => `outbound|${port}||${name}.${ns}.svc.cluster.local`;
const workload = (gateway: string) => ({ namespace: NS, name: `${gateway}-istio` });

describe('Gateway API conformance, more of the suite, as Istio gives it', () => {
  const t = useTestApp();
  let id: string;
  let statuses: Status[];
  beforeAll(async () => {
    id = await uploadSnapshot(t.app, MANIFESTS, 'gateway-api-conformance');
    await waitReady(t.app, id, 240_000);
    const data = await graphql(
      `
        query ($id: ID!) {
          snapshot(id: $id) {
            ${GATEWAY_STATUS}
          }
        }
      `,
      { id },
    );
    statuses = data.snapshot.gatewayStatus;
  }, 300_000);

  const graphql = async (query: string, variables: Record<string, unknown>) => {
    const res = await request(t.app.getHttpServer()).post('/graphql').send({ query, variables });
    expect(res.body.errors).toBeUndefined();
    return res.body.data;
  };
  const via = async (gateway: string, call: Record<string, unknown>): Promise<Resolution> =>
    (await graphql(RESOLVE, { id, proxy: workload(gateway), call: { mode: 'GATEWAY', port: 80, path: '/', ...call } })).resolveRoute;
  const status = (kind: string, name: string): Status => {
    const s = statuses.find((x) => x.kind === kind && x.namespace === NS && x.name === name);
    expect(s, `${kind} ${name}`).toBeDefined();
    return s as Status;
  };
  type EnvoyRoute = Record<string, Record<string, unknown>>;
  /** The Envoy route of `gateway`'s route configuration http.80, virtual host `vhost`, whose match names `path`. */
  const envoyRoute = async (gateway: string, vhost: string, path: string): Promise<EnvoyRoute> => {
    const data = await graphql(
      `
        query ($id: ID!, $proxy: ProxyInput!) {
          proxyConfig(snapshotId: $id, proxy: $proxy) {
            routes(name: "http.80") {
              config
            }
          }
        }
      `,
      { id, proxy: workload(gateway) },
    );
    const vhosts = data.proxyConfig.routes[0].config.virtualHosts as { name: string; routes: EnvoyRoute[] }[];
    const route = vhosts.find((v) => v.name === vhost)?.routes.find((r) => JSON.stringify(r.match).includes(path));
    expect(route, `${vhost} ${path}`).toBeDefined();
    return route as EnvoyRoute;
  };
  const listener = (gateway: string, name: string): ListenerStatus => {
    const l = status('Gateway', gateway).status.listeners?.find((x) => x.name === name);
    expect(l, `${gateway} listener ${name}`).toBeDefined();
    return l as ListenerStatus;
  };

  it('HTTPRouteMatchingAcrossRoutes: the matches of two routes on one host, merged', async () => {
    const cases: [string, string, { name: string; value: string }[], string][] = [
      ['example.com', '/', [], 'v1'],
      ['example.com', '/example', [], 'v1'],
      ['example.net', '/example', [], 'v1'],
      ['example.com', '/v2', [], 'v2'],
      ['example.com', '/v2/example', [], 'v2'],
      ['example.com', '/', [{ name: 'version', value: 'two' }], 'v2'],
      ['example.net', '/v2', [], 'v1'],
      ['example.net', '/', [{ name: 'version', value: 'two' }], 'v1'],
    ];
    for (const [host, path, headers, want] of cases) {
      const r = await via('same', { host, path, headers });
      expect({ host, path, headers, cluster: r.cluster }).toEqual({ host, path, headers, cluster: cluster(want) });
    }
  });

  it('HTTPRoutePathMatchOrder: Exact before PathPrefix, longer prefixes first', async () => {
    const cases: [string, string][] = [
      ['/match/exact/one', 'v3'],
      ['/match/exact', 'v2'],
      ['/match', 'v1'],
      ['/match/prefix/one/any', 'v2'],
      ['/match/prefix/any', 'v1'],
      ['/match/any', 'v3'],
    ];
    for (const [path, want] of cases) {
      const r = await via('same', { host: 'order.example.com', path });
      expect({ path, cluster: r.cluster }).toEqual({ path, cluster: cluster(want) });
    }
  });

  it('HTTPRouteHeaderMatching: a match with more headers comes first, and needs all of them', async () => {
    const host = 'headers.example.com';
    expect((await via('same', { host, headers: [{ name: 'version', value: 'one' }] })).cluster).toBe(cluster('v1'));
    const both = [
      { name: 'version', value: 'one' },
      { name: 'color', value: 'orange' },
    ];
    expect((await via('same', { host, headers: both })).cluster).toBe(cluster('v2'));
    expect((await via('same', { host, headers: [{ name: 'color', value: 'orange' }] })).cluster).toBeNull();
  });

  it('HTTPRouteInvalidNonExistentBackendRef: 500, ResolvedRefs False BackendNotFound', async () => {
    // istiod keeps a missing Service's host as the destination (unlike a refused reference, sent to
    // UnknownService): no proxy has its cluster, and the route's cluster_not_found_response_code is 500.
    const r = await via('same', { host: 'missing.example.com' });
    expect(r.cluster).toBe(cluster('nonexistent'));
    expect(r.trace.map((s) => s.detail).join('\n')).toContain("does not exist in this proxy's config: Envoy answers 500");
    expect(status('HTTPRoute', 'missing').conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'Accepted', status: 'True', parent: `Gateway ${NS}/same` }),
        expect.objectContaining({ type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound' }),
      ]),
    );
  });

  it('HTTPRoutePartiallyInvalidViaInvalidReferenceGrant: the granted rule routes, the other answers 500', async () => {
    const host = 'partial.example.com';
    expect((await via('same', { host, path: '/' })).cluster).toBe(cluster('app-v1', 8080, 'apps'));
    expect((await via('same', { host, path: '/v2' })).cluster).toBe('UnknownService');
    expect(status('HTTPRoute', 'partial').conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'Accepted', status: 'True' }),
        expect.objectContaining({ type: 'ResolvedRefs', status: 'False', reason: 'RefNotPermitted' }),
      ]),
    );
  });

  it('HTTPRouteTimeoutRequest, HTTPRouteTimeoutBackendRequest: the Envoy route timeouts', async () => {
    const timeout = async (path: string) => (await envoyRoute('same', 'timeout.example.com:80', path)).route.timeout;
    expect(await timeout('/request-timeout')).toBe('0.500s');
    expect(await timeout('/backend-timeout')).toBe('0.500s');
    expect(await timeout('/disable')).toBe('0s');
  });

  it('HTTPRouteServiceTypes: a headless Service as a backend', async () => {
    expect(await via('same', { host: 'headless.example.com' })).toMatchObject({ error: null, cluster: cluster('headless') });
  });

  it('GRPCRouteExactMethodMatching: /service/method, other methods not routed', async () => {
    const grpc = (path: string) =>
      via('same', { host: 'grpc.example.com', path, method: 'POST', headers: [{ name: 'content-type', value: 'application/grpc' }] });
    expect(await grpc('/meshlens.Echo/Ping')).toMatchObject({
      cluster: cluster('grpc', 9000),
      routeSource: { kind: 'GRPCRoute', namespace: NS, name: 'grpc' },
    });
    expect((await grpc('/meshlens.Echo/Pong')).cluster).toBe(cluster('v2'));
    expect((await grpc('/meshlens.Echo/Other')).cluster).toBeNull();
    expect(status('GRPCRoute', 'grpc').conditions).toContainEqual(expect.objectContaining({ type: 'Accepted', status: 'True' }));
  });

  it('HTTPRouteListenerPortMatching: a parentRef port selects the listeners of that port', async () => {
    const cases: [number, string, string | null][] = [
      [80, 'foo.com', 'v1'],
      [8080, 'foo.com', 'v2'],
      [8080, 'bar.com', 'v2'],
      [8090, 'foo.com', 'v3'],
      [8090, 'bar.com', null],
    ];
    for (const [port, host, want] of cases) {
      const r = await via('ports', { port, host });
      expect({ port, host, cluster: r.cluster }).toEqual({ port, host, cluster: want && cluster(want) });
    }
  });

  it('GatewayHTTPListenerIsolation: a request is routed only by the routes of the most specific listener of its host', async () => {
    const cases: [string, string, boolean][] = [
      ['bar.com', '/empty-hostname', true],
      ['bar.com', '/wildcard-example-com', false],
      ['bar.example.com', '/wildcard-example-com', true],
      ['bar.example.com', '/empty-hostname', false],
      ['bar.foo.example.com', '/wildcard-foo-example-com', true],
      ['bar.foo.example.com', '/wildcard-example-com', false],
      ['abc.foo.example.com', '/abc-foo-example-com', true],
      ['abc.foo.example.com', '/wildcard-foo-example-com', false],
    ];
    for (const [host, path, routed] of cases) {
      const r = await via('isolation', { host, path });
      expect({ host, path, cluster: r.cluster }).toEqual({ host, path, cluster: routed ? cluster('v1') : null });
    }
  });

  it('HTTPRouteDisallowedKind: an HTTPRoute on a listener of TLSRoutes only is not accepted', () => {
    expect(status('HTTPRoute', 'disallowed').conditions).toContainEqual(
      expect.objectContaining({ type: 'Accepted', status: 'False', reason: 'NotAllowedByListeners', parent: `Gateway ${NS}/tls-only` }),
    );
  });

  it('GatewayInvalidRouteKind: ResolvedRefs False InvalidRouteKinds, the supported kinds listed', () => {
    expect(listener('refused', 'only-invalid')).toMatchObject({
      supportedKinds: [],
      attachedRoutes: 0,
      conditions: expect.arrayContaining([expect.objectContaining({ type: 'ResolvedRefs', status: 'False', reason: 'InvalidRouteKinds' })]),
    });
    expect(listener('refused', 'some-invalid')).toMatchObject({
      supportedKinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }],
      conditions: expect.arrayContaining([expect.objectContaining({ type: 'ResolvedRefs', status: 'False', reason: 'InvalidRouteKinds' })]),
    });
  });

  it('GatewayInvalidTLSConfiguration: a missing certificate, ResolvedRefs False InvalidCertificateRef', () => {
    expect(listener('refused', 'https').conditions).toContainEqual(
      expect.objectContaining({ type: 'ResolvedRefs', status: 'False', reason: 'InvalidCertificateRef' }),
    );
  });

  it('GatewayWithAttachedRoutes: attachedRoutes counts the accepted routes; a hostname outside the listener is not', () => {
    expect(listener('refused', 'attached')).toMatchObject({
      attachedRoutes: 2,
      conditions: expect.arrayContaining([
        expect.objectContaining({ type: 'Accepted', status: 'True' }),
        expect.objectContaining({ type: 'ResolvedRefs', status: 'True' }),
      ]),
    });
    expect(status('HTTPRoute', 'not-attached').conditions).toContainEqual(
      expect.objectContaining({ type: 'Accepted', status: 'False', reason: 'NoMatchingListenerHostname' }),
    );
  });
  it('HTTPRouteCrossNamespace: a route of a namespace the selector picks is served; one of another is not', async () => {
    expect(await via('selected', {})).toMatchObject({
      cluster: cluster('web-backend', 8080, 'web'),
      routeSource: { kind: 'HTTPRoute', namespace: 'web', name: 'cross' },
    });
    expect(status('HTTPRoute', 'unselected').conditions).toContainEqual(
      expect.objectContaining({ type: 'Accepted', status: 'False', reason: 'NotAllowedByListeners' }),
    );
  });

  it('HTTPRoute303Redirect, ...307Redirect, ...308Redirect; HTTPRouteRequestMultipleMirrors, ...PercentageMirror', async () => {
    const byPath = (path: string) => envoyRoute('same', 'codes.example.com:80', path);
    expect((await byPath('/303')).redirect).toMatchObject({ hostRedirect: 'moved.example.com', responseCode: 'SEE_OTHER' });
    expect((await byPath('/307')).redirect).toMatchObject({ responseCode: 'TEMPORARY_REDIRECT' });
    expect((await byPath('/308')).redirect).toMatchObject({ responseCode: 'PERMANENT_REDIRECT' });
    const mirrors = (await byPath('/mirrors')).route.requestMirrorPolicies as Record<string, unknown>[];
    expect(mirrors).toEqual([
      expect.objectContaining({ cluster: cluster('v2') }),
      expect.objectContaining({
        cluster: cluster('v3'),
        runtimeFraction: expect.objectContaining({ defaultValue: expect.objectContaining({ numerator: 350000 }) }),
      }),
    ]);
  });

  it('TCPRouteInvalidNonTCPListener: a TCPRoute on an HTTP listener is not accepted', () => {
    expect(status('TCPRoute', 'tcp-on-http').conditions).toContainEqual(
      expect.objectContaining({ type: 'Accepted', status: 'False', reason: 'NotAllowedByListeners' }),
    );
  });

  it('HTTPRouteHTTPSListener: an HTTPS listener terminates TLS and routes by host', async () => {
    expect(await via('secure', { port: 443, tls: 'TLS', sni: 'a.example.com', host: 'a.example.com' })).toMatchObject({
      error: null,
      cluster: cluster('v1'),
    });
    expect(listener('secure', 'https')).toMatchObject({
      attachedRoutes: 1,
      conditions: expect.arrayContaining([
        expect.objectContaining({ type: 'ResolvedRefs', status: 'True' }),
        expect.objectContaining({ type: 'Programmed', status: 'True' }),
      ]),
    });
  });

  it('GatewaySecretReferenceGrantSpecific, GatewaySecretMissingReferenceGrant: a certificate of another namespace needs a grant', async () => {
    expect(listener('secure', 'granted').conditions).toContainEqual(expect.objectContaining({ type: 'ResolvedRefs', status: 'True' }));
    expect(await via('secure', { port: 443, tls: 'TLS', sni: 'b.example.com', host: 'b.example.com' })).toMatchObject({
      cluster: cluster('v2'),
    });
    expect(listener('secure', 'ungranted').conditions).toContainEqual(
      expect.objectContaining({ type: 'ResolvedRefs', status: 'False', reason: 'RefNotPermitted' }),
    );
  });

  it('GatewayInvalidTLSConfiguration: a malformed certificate, ResolvedRefs False InvalidCertificateRef', () => {
    expect(listener('secure', 'malformed').conditions).toContainEqual(
      expect.objectContaining({ type: 'ResolvedRefs', status: 'False', reason: 'InvalidCertificateRef' }),
    );
  });

  it('HTTPRouteBackendProtocolH2C, ...WebSocket: HTTP/2 to an h2c Service port; WebSocket upgrades on every route', async () => {
    const data = await graphql(
      `
        query ($id: ID!, $proxy: ProxyInput!) {
          proxyConfig(snapshotId: $id, proxy: $proxy) {
            clusters(fqdn: "h2c.conf.svc.cluster.local") {
              config
            }
            listeners(port: 80) {
              config
            }
          }
        }
      `,
      { id, proxy: workload('same') },
    );
    expect(data.proxyConfig.clusters[0].config.typedExtensionProtocolOptions).toMatchObject({
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { explicitHttpConfig: { http2ProtocolOptions: {} } },
    });
    // istiod allows WebSocket upgrades in the gateway's HTTP connection manager, for every route.
    expect(JSON.stringify(data.proxyConfig.listeners[0].config)).toContain('"upgradeType":"websocket"');
    expect((await envoyRoute('same', 'protocols.example.com:80', '/ws')).route.cluster).toBe(cluster('ws', 8082));
  });

  const grpcCall = (host: string, headers: { name: string; value: string }[] = []) => ({
    host,
    path: `/${GRPC_ECHO}/Echo`,
    method: 'POST',
    headers: [{ name: 'content-type', value: 'application/grpc' }, ...headers],
  });

  it('GRPCRouteHeaderMatching: every header of a match; the rule order breaks ties; unmatched is not routed', async () => {
    const cases: [Record<string, string>, string | null][] = [
      [{ version: 'one' }, 'v1'],
      [{ version: 'two' }, 'v2'],
      [{ version: 'two', color: 'orange' }, 'v1'],
      [{ version: 'two', color: 'blue' }, 'v2'],
      [{ color: 'orange' }, null],
      [{ 'some-other-header': 'one' }, null],
      [{ color: 'blue' }, 'v1'],
      [{ color: 'green' }, 'v1'],
      [{ color: 'red' }, 'v2'],
      [{ color: 'yellow' }, 'v2'],
      [{ color: 'purple' }, null],
    ];
    for (const [metadata, want] of cases) {
      const headers = Object.entries(metadata).map(([name, value]) => ({ name, value }));
      const r = await via('same', grpcCall('grpc-headers.example.com', headers));
      expect({ metadata, cluster: r.cluster }).toEqual({ metadata, cluster: want && cluster(want) });
    }
  });

  it("Istio's grpc conversion: a service match is the prefix /service/, a method regex any service's method", async () => {
    const header = [{ name: 'my-header', value: 'some-value' }];
    const cases: [string, { name: string; value: string }[], string | null][] = [
      ['/foo/Anything', header, 'v1'],
      ['/foo/Anything', [], null],
      ['/foo/bar', [], 'v2'],
      ['/any.Service/bar', [], 'v2'],
      ['/any.Service/barn', [], null],
      ['/a/b/bar', [], null],
    ];
    for (const [path, headers, want] of cases) {
      const r = await via('same', { ...grpcCall('grpc-service.example.com', headers), path });
      expect({ path, headers, cluster: r.cluster }).toEqual({ path, headers, cluster: want && cluster(want) });
    }
    const r = await via('same', { ...grpcCall('grpc-service.example.com', header), path: '/foo/Anything' });
    expect(r.trace.find((s) => s.stage === 'cluster')?.detail).toContain(
      'request my-added-header: added-value; request my-removed-header removed',
    );
  });

  it('GRPCRouteRequestHeaderModifier: the first rule of a method serves it, with its header changes', async () => {
    const cases = [
      ['Echo', 'v1', 'request x-header-set: set-overwrites-values'],
      [
        'EchoTwo',
        'v2',
        'request x-header-set-1: header-set-1; request x-header-set-2: header-set-2; request x-header-add-1: header-add-1; request x-header-add-2: header-add-2; request X-Header-Remove-1 removed; request X-Header-Remove-2 removed',
      ],
    ];
    for (const [method, want, headers] of cases) {
      const r = await via('same', { ...grpcCall('grpc-modifier.example.com'), path: `/${GRPC_ECHO}/${method}` });
      expect({ method, cluster: r.cluster }).toEqual({ method, cluster: cluster(want) });
      expect(r.trace.find((s) => s.stage === 'cluster')?.detail).toContain(headers);
    }
  });

  it('GRPCRouteWeight: 70 and 30, a weight of 0 never chosen', async () => {
    const r = await via('same', grpcCall('grpc-weights.example.com'));
    expect(r.routeSource).toMatchObject({ kind: 'GRPCRoute', name: 'grpc-weights' });
    expect(r.weightedClusters?.filter((c) => c.weight > 0)).toEqual([
      { cluster: cluster('v1'), weight: 70 },
      { cluster: cluster('v2'), weight: 30 },
    ]);
  });

  it('GRPCRouteListenerHostnameMatching: each authority is routed by the routes of its listener', async () => {
    const cases: [string, string | null][] = [
      ['bar.com', 'v1'],
      ['foo.bar.com', 'v2'],
      ['baz.bar.com', 'v3'],
      ['boo.bar.com', 'v3'],
      ['multiple.prefixes.bar.com', 'v3'],
      ['multiple.prefixes.foo.com', 'v3'],
      ['foo.com', null],
      ['no.matching.host', null],
    ];
    for (const [host, want] of cases) {
      const r = await via('grpc-hostnames', grpcCall(host));
      expect({ host, cluster: r.cluster }).toEqual({ host, cluster: want && cluster(want) });
    }
  });

  it('TLSRouteHostnameIntersection: a TLSRoute takes the SNIs its hostnames share with the listener', async () => {
    const cases: [string, string, string | null][] = [
      ['tls-exact', 'abc.example.com', 'tls-backend'],
      ['tls-exact', 'non.matching.com', null],
      ['tls-wildcard', 'abc.example.com', 'tls-backend'],
      ['tls-wildcard', 'other.example.com', 'tls-backend-2'],
      ['tls-wildcard', 'non.matching.com', null],
      ['tls-wider', 'abc.example.com', 'tls-backend'],
      ['tls-wider', 'other.example.com', 'tls-backend-2'],
      ['tls-wider', 'non.matching.com', null],
      ['tls-empty', 'abc.example.com', 'tls-backend'],
      ['tls-empty', 'other.example.com', 'tls-backend-2'],
      ['tls-empty', 'non.matching.org', null],
    ];
    for (const [gateway, sni, want] of cases) {
      const r = await via(gateway, { port: 443, protocol: 'TCP', tls: 'TLS', sni });
      expect({ gateway, sni, cluster: r.cluster, routed: r.error === null }).toEqual({
        gateway,
        sni,
        cluster: want && cluster(want, 443),
        routed: want !== null,
      });
    }
    for (const name of ['tls-exact-wildcard', 'tls-wildcard-exact', 'tls-wildcard-wider', 'tls-wider-exact', 'tls-wider-wildcard'])
      expect(status('TLSRoute', name).conditions).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ type: 'Accepted', status: 'True' }),
          expect.objectContaining({ type: 'ResolvedRefs', status: 'True' }),
        ]),
      );
  });

  it('TCPRouteWeightedRouting: 70 and 30, a weight of 0 never chosen; the same split on a TLSRoute, for each of its hostnames', async () => {
    const tcp = await via('weights', { port: 9000, protocol: 'TCP' });
    expect(tcp.weightedClusters?.filter((c) => c.weight > 0)).toEqual([
      { cluster: cluster('tcp-v1', 3000), weight: 70 },
      { cluster: cluster('tcp-v2', 3000), weight: 30 },
    ]);
    for (const sni of ['one.example.com', 'two.example.com']) {
      const tls = await via('weights', { port: 443, protocol: 'TCP', tls: 'TLS', sni });
      expect({ sni, weightedClusters: tls.weightedClusters }).toEqual({
        sni,
        weightedClusters: [
          { cluster: cluster('tls-backend', 443), weight: 70 },
          { cluster: cluster('tls-backend-2', 443), weight: 30 },
        ],
      });
    }
    expect((await via('weights', { port: 443, protocol: 'TCP', tls: 'TLS', sni: 'three.example.com' })).cluster).toBeNull();
  });

  it('TLSRouteMixedTerminationSameNamespace: on one port, one SNI terminated, the other passed through', async () => {
    const call = (sni: string) => via('mixed-termination', { port: 8883, protocol: 'TCP', tls: 'TLS', sni });
    expect(await call('tls.example.com')).toMatchObject({ error: null, cluster: cluster('tcp-backend', 3000) });
    expect(await call('abc.example.com')).toMatchObject({ error: null, cluster: cluster('tcp-backend', 8443) });
    for (const name of ['mixed-passthrough', 'mixed-terminate'])
      expect(status('TLSRoute', name).conditions).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ type: 'Accepted', status: 'True' }),
          expect.objectContaining({ type: 'ResolvedRefs', status: 'True' }),
        ]),
      );
  });

  it('TLSRouteInvalidNoMatchingListenerHostname: Accepted False NoMatchingListenerHostname', () => {
    for (const name of ['tls-mismatch-exact', 'tls-mismatch-wildcard'])
      expect(status('TLSRoute', name).conditions).toContainEqual(
        expect.objectContaining({ type: 'Accepted', status: 'False', reason: 'NoMatchingListenerHostname' }),
      );
  });

  it('TLSRouteInvalidBackendRefNonexistent: ResolvedRefs False BackendNotFound; the connection reaches no backend', async () => {
    expect(status('TLSRoute', 'tls-nonexistent').conditions).toContainEqual(
      expect.objectContaining({ type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound' }),
    );
    const r = await via('tls-empty', { port: 443, protocol: 'TCP', tls: 'TLS', sni: 'example.com' });
    const rejected = r.error !== null || r.trace.some((s) => s.detail.includes("does not exist in this proxy's config"));
    expect({ cluster: r.cluster, error: r.error, rejected }).toMatchObject({ rejected: true });
  });

  it('TCPRouteMultipleRoutesAttachment: both accepted, both attached; the older route is served', async () => {
    for (const name of ['tcproute-attach-older', 'tcproute-attach-newer'])
      expect(status('TCPRoute', name).conditions).toContainEqual(expect.objectContaining({ type: 'Accepted', status: 'True' }));
    expect(listener('tcp-attach', 'tcp').attachedRoutes).toBe(2);
    expect((await via('tcp-attach', { port: 9310, protocol: 'TCP' })).cluster).toBe(cluster('tcp-attach-1', 3000));
  });

  it('ListenerSetHTTPRouting: routes on a ListenerSet serve its listeners only; routes on the Gateway, its own', async () => {
    const hosts = [
      'gateway-listener-1.com',
      'gateway-listener-2.com',
      'set-1-listener-1.com',
      'set-1-listener-2.com',
      'set-2-listener-1.com',
      'set-2-listener-2.com',
    ];
    const served: [string, string[], string][] = [
      ['/route', hosts, 'v1'],
      ['/gateway-route', ['gateway-listener-1.com', 'gateway-listener-2.com'], 'v2'],
      ['/gateway-section-route', ['gateway-listener-1.com'], 'v3'],
      ['/set-1-route', ['set-1-listener-1.com', 'set-1-listener-2.com'], 'v2'],
      ['/set-1-section-route', ['set-1-listener-1.com'], 'v3'],
      ['/set-2-route', ['set-2-listener-1.com', 'set-2-listener-2.com'], 'v2'],
    ];
    for (const [path, servedHosts, want] of served)
      for (const host of hosts) {
        const r = await via('with-sets', { host, path });
        expect({ host, path, cluster: r.cluster }).toEqual({ host, path, cluster: servedHosts.includes(host) ? cluster(want) : null });
      }
    expect(status('Gateway', 'with-sets').status).toMatchObject({ attachedListenerSets: 2 });
    const setListeners = (name: string) => status('ListenerSet', name).status.listeners?.map((l) => [l.name, l.attachedRoutes]);
    expect(setListeners('set-1')).toEqual([
      ['set-1-listener-1', 3],
      ['set-1-listener-2', 2],
    ]);
    expect(setListeners('set-2')).toEqual([
      ['set-2-listener-1', 2],
      ['set-2-listener-2', 2],
    ]);
  });

  it('ListenerSetDefaultNotAllowed: Accepted and Programmed False NotAllowed; the Gateway attaches none', () => {
    expect(status('Gateway', 'no-sets').conditions).toContainEqual(expect.objectContaining({ type: 'Accepted', status: 'True' }));
    expect(status('Gateway', 'no-sets').status.attachedListenerSets ?? 0).toBe(0);
    expect(status('ListenerSet', 'not-allowed').conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'Accepted', status: 'False', reason: 'NotAllowed' }),
        expect.objectContaining({ type: 'Programmed', status: 'False', reason: 'NotAllowed' }),
      ]),
    );
  });

  it('HTTPRouteRequestHeaderModifierBackendWeights: each backend of the split gets its own header', async () => {
    const r = await via('same', { host: 'backend-headers.example.com' });
    expect(r.weightedClusters).toEqual([
      { cluster: cluster('v1'), weight: 10 },
      { cluster: cluster('v2'), weight: 10 },
    ]);
    const detail = r.trace.find((s) => s.stage === 'cluster')?.detail;
    for (const name of ['v1', 'v2']) expect(detail).toContain(`${cluster(name)} (request backend: ${name})`);
  });

  it('HTTPRouteNoBackendRefs: a rule without backends answers 500; the others route', async () => {
    const host = 'omitted.example.com';
    expect((await via('same', { host, path: '/forward' })).cluster).toBe(cluster('v1'));
    for (const path of ['/omitted-no-forward', '/empty-no-forward']) {
      const r = await via('same', { host, path });
      expect({ path, cluster: r.cluster, error: r.error }).toEqual({ path, cluster: null, error: null });
      expect(r.trace.map((s) => s.detail).join('\n')).toContain('HTTP 500');
    }
  });

  it('HTTPRouteNamedRule: a named rule and an unnamed one both route', async () => {
    const host = 'named.example.com';
    expect(await via('same', { host, path: '/named' })).toMatchObject({ cluster: cluster('v1'), routeSource: { name: 'named-rules' } });
    expect(await via('same', { host, path: '/unnamed' })).toMatchObject({ cluster: cluster('v2'), routeSource: { name: 'named-rules' } });
  });

  it('ListenerSetAllowedNamespaceSame: the ListenerSet of the Gateway namespace is taken, the other NotAllowed', () => {
    expect(status('Gateway', 'same-ns-sets').status.attachedListenerSets).toBe(1);
    expect(status('ListenerSet', `set-in-${NS}`).conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'Accepted', status: 'True', reason: 'Accepted' }),
        expect.objectContaining({ type: 'Programmed', status: 'True', reason: 'Programmed' }),
      ]),
    );
    const elsewhere = statuses.find((x) => x.kind === 'ListenerSet' && x.namespace === 'sets-elsewhere');
    expect(elsewhere?.conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'Accepted', status: 'False', reason: 'NotAllowed' }),
        expect.objectContaining({ type: 'Programmed', status: 'False', reason: 'NotAllowed' }),
      ]),
    );
  });

  it('ListenerSetGatewayParentSectionNameNotFound: a Gateway parentRef naming a ListenerSet listener is NoMatchingParent', async () => {
    expect(status('Gateway', 'section-name').status.attachedListenerSets).toBe(1);
    expect(status('HTTPRoute', 'route-via-listenerset').conditions).toContainEqual(
      expect.objectContaining({ type: 'Accepted', status: 'True' }),
    );
    expect(status('HTTPRoute', 'route-via-gateway').conditions).toContainEqual(
      expect.objectContaining({ type: 'Accepted', status: 'False', reason: 'NoMatchingParent' }),
    );
    expect((await via('section-name', { host: 'ls-section-name.com', path: '/goodsection' })).cluster).toBe(cluster('v1'));
    expect((await via('section-name', { host: 'gw-section.com', path: '/badsection' })).cluster).toBeNull();
  });

  it('HTTPRouteRetry: the attempts and the status codes retried, in the Envoy route and the resolution', async () => {
    const host = 'retry.example.com';
    for (const [path, attempts, codes] of [
      ['/retry/code-500-attempts-3', 3, [500]],
      ['/retry/code-all-attempts-2', 2, [500, 502, 503, 504]],
    ] as const) {
      const policy = (await envoyRoute('same', `${host}:80`, path)).route.retryPolicy;
      expect(policy).toMatchObject({ numRetries: attempts, retriableStatusCodes: codes });
      const r = await via('same', { host, path });
      expect(r.trace.find((s) => s.stage === 'cluster')?.detail).toContain(`retries ${attempts} on `);
      expect(r.trace.find((s) => s.stage === 'cluster')?.detail).toContain(`status ${codes.join(', ')}`);
    }
  });

  it('HTTPRouteRetryWithTimeouts: backendRequest is the per-try timeout, request the route timeout', async () => {
    const host = 'retry-timeouts.example.com';
    const cases = [
      // No request timeout: istiod turns the route's off (Envoy's default would be 15s).
      ['/retry/backend-request-timeout-200ms', 2, '0s'],
      ['/retry/request-timeout-200ms', 5, '0.400s'],
    ] as const;
    for (const [path, attempts, timeout] of cases) {
      const route = (await envoyRoute('same', `${host}:80`, path)).route;
      expect({ path, timeout: route.timeout, retryPolicy: route.retryPolicy }).toMatchObject({
        path,
        timeout,
        retryPolicy: { numRetries: attempts, perTryTimeout: '0.200s' },
      });
      const r = await via('same', { host, path });
      expect(r.trace.find((s) => s.stage === 'cluster')?.detail).toContain(`retries ${attempts} on `);
      expect(r.trace.find((s) => s.stage === 'cluster')?.detail).toContain('0.200s per try');
    }
  });

  it('HTTPRouteMultipleGateways: the shared route on both Gateways, each one its own route besides', async () => {
    for (const [gateway, own] of [
      ['shared-a', 'v2'],
      ['shared-b', 'v3'],
    ]) {
      expect({ gateway, cluster: (await via(gateway, { path: '/shared' })).cluster }).toEqual({ gateway, cluster: cluster('v1') });
      expect({ gateway, cluster: (await via(gateway, { path: '/' })).cluster }).toEqual({ gateway, cluster: cluster(own) });
    }
  });

  it('HTTPRouteCORS: the allowed origins, methods and headers of the Envoy route, named by the resolution', async () => {
    const host = 'cors.example.com';
    const cors = (await envoyRoute('same', `${host}:80`, '/cors-1')).typedPerFilterConfig['envoy.filters.http.cors'];
    expect(cors).toMatchObject({
      allowOriginStringMatch: [{ exact: 'https://www.foo.com' }, { safeRegex: { regex: '^https://.*\\.bar\\.com$' } }],
      allowMethods: 'GET,OPTIONS',
      allowHeaders: 'x-header-1,x-header-2',
      exposeHeaders: 'x-header-3,x-header-4',
      allowCredentials: true,
      maxAge: '3600',
    });
    const r = await via('same', { host, path: '/cors-1' });
    expect(r.trace.find((s) => s.stage === 'cluster')?.detail).toContain('cors allow origins');
    expect((await envoyRoute('same', `${host}:80`, '/cors-2')).typedPerFilterConfig['envoy.filters.http.cors']).toMatchObject({
      allowOriginStringMatch: [{ exact: 'https://www.foo.com' }],
      allowMethods: '*',
    });
  });
});
