// The client address Envoy's connection manager settles on (envoy/client-address.ts), which RBAC's
// remote_ip matches: gateways (use_remote_address, numTrustedProxies) and sidecars (neither).
import { describe, expect, it } from 'vitest';
import { clientAddress } from '../../../src/envoy/client-address.js';

describe('clientAddress', () => {
  it('a gateway trusting one proxy takes the last X-Forwarded-For entry; trusting none, the connection', () => {
    const gateway = { useRemoteAddress: true, xffNumTrustedHops: 1 };
    expect(clientAddress(gateway, '10.4.5.6, 172.17.72.46', '10.0.0.1')).toBe('172.17.72.46');
    expect(clientAddress({ ...gateway, xffNumTrustedHops: 2 }, '10.4.5.6, 172.17.72.46', '10.0.0.1')).toBe('10.4.5.6');
    expect(clientAddress({ ...gateway, xffNumTrustedHops: 3 }, '10.4.5.6, 172.17.72.46', '10.0.0.1')).toBe('10.0.0.1');
    expect(clientAddress({ useRemoteAddress: true }, '10.4.5.6', '10.0.0.1')).toBe('10.0.0.1');
    expect(clientAddress(gateway, undefined, '10.0.0.1')).toBe('10.0.0.1');
  });

  it('a sidecar (no use_remote_address) takes the last X-Forwarded-For entry, when it is an address', () => {
    expect(clientAddress({}, '1.2.3.4, 5.6.7.8', '10.0.0.1')).toBe('5.6.7.8');
    expect(clientAddress({}, 'unknown', '10.0.0.1')).toBe('10.0.0.1');
    expect(clientAddress({}, undefined, '10.0.0.1')).toBe('10.0.0.1');
  });
});
