import { describe, expect, it } from 'vitest';
import { loadParams, type GatewayDeployer } from '../../../src/generator/protocol.js';
import { normaliseWithIstiod } from '../../../src/ingest/gateway-deployments.js';
import { normaliseSnapshot } from '../../../src/ingest/normalise.js';
import { NORMALISED_PARTS, normaliseOnThread } from '../../../src/jobs/normalise-thread.js';
import { inputIdentities } from '../../../src/jobs/reuse.js';
import { deployment, namespace, pod, resources, service, type Manifest } from '../../support/mesh.js';

// More pods than a part holds, so that the result crosses back in several parts of each list.
const PODS = Array.from({ length: NORMALISED_PARTS + 7 }, (_, i) =>
  pod('shop', `web-${i}`, { labels: { app: 'web' }, ip: `10.1.${i >> 8}.${i & 255}`, ready: true }),
);
const MESH = resources(namespace('shop'), service('shop', 'web', [{ port: 80, targetPort: 8080 }], { selector: { app: 'web' } }), ...PODS);

const gateway: Manifest = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name: 'edge', namespace: 'shop' },
  spec: { gatewayClassName: 'istio', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
};
// What istiod's deployment controller would apply for it (the generator's answer, fixed here).
const deployed = deployment('shop', 'edge-istio', { labels: { 'gateway.networking.k8s.io/gateway-name': 'edge' } });
const deploy: GatewayDeployer = async () => [
  { gateway: { kind: 'Gateway', namespace: 'shop', name: 'edge' }, object: deployed as unknown as Record<string, unknown> },
];
const noGateways: GatewayDeployer = async () => {
  throw new Error('asked to deploy Gateways where there are none');
};

describe('normaliseOnThread', () => {
  it('gives the normalisation, load params and input identities of the event loop, in order', async () => {
    const { normalised, loadParamsJson, inputs } = await normaliseOnThread(Promise.resolve(MESH), noGateways);
    const expected = normaliseSnapshot(MESH);
    expect(normalised).toEqual(expected);
    // The session's `load` request carries these bytes as its params, as JSON.stringify wrote them there.
    expect(loadParamsJson).toBe(JSON.stringify(loadParams(expected)));
    expect(normalised.workloads.map((w) => w.name)).toEqual(expected.workloads.map((w) => w.name));
    expect(await inputs).toEqual(inputIdentities(loadParams(expected)));
  });

  it("asks the parent's generator what istiod deploys for Gateway API Gateways", async () => {
    const withGateway = [...MESH, ...resources(gateway).map((r) => ({ ...r, document: MESH.length }))];
    const asked: unknown[] = [];
    const { normalised } = await normaliseOnThread(Promise.resolve(withGateway), async (params) => {
      asked.push(params);
      return deploy(params);
    });
    expect(asked).toHaveLength(1);
    expect(normalised).toEqual(await normaliseWithIstiod(withGateway, deploy));
    expect(normalised.workloads.some((w) => w.name.startsWith('edge-istio'))).toBe(true);
  });

  it("fails with the generator's own error", async () => {
    const withGateway = [...MESH, ...resources(gateway).map((r) => ({ ...r, document: MESH.length }))];
    const failure = new Error('generator stopped');
    await expect(
      normaliseOnThread(Promise.resolve(withGateway), async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
  });

  it('fails when the resources cannot be read', async () => {
    await expect(normaliseOnThread(Promise.reject(new Error('database gone')), noGateways)).rejects.toThrow('database gone');
  });
});
