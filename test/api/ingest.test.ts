// Uploads end to end (REST → ingest → Postgres): every encoding, the bad inputs, the body limit,
// and every case config of the shared scenario corpus.
import fs from 'node:fs';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import YAML from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { SnapshotStore } from '../../src/database/snapshot.store.js';
import { useTestApp } from '../support/test-app.js';

const t = useTestApp({ worker: false });

function upload(body: string, contentType = 'application/yaml', name = 'test') {
  return request(t.app.getHttpServer())
    .post(`/api/v1/snapshots?name=${encodeURIComponent(name)}`)
    .set('content-type', contentType)
    .send(body);
}

async function storedResources(snapshotId: string) {
  return (await t.app.get(SnapshotStore).resources(snapshotId)).map(({ kind, namespace, name, document, body, evaluated }) => ({
    kind,
    namespace,
    name,
    document,
    body,
    evaluated,
  }));
}

/** Rows in every table an upload writes to, to prove a refused upload stored nothing. */
async function rowCounts() {
  const [row] = await t.db.query<Record<string, number>>(
    `SELECT (SELECT count(*)::int FROM snapshots) AS snapshots,
            (SELECT count(*)::int FROM list_nodes) AS chunks,
            (SELECT count(*)::int FROM resource_bodies) AS bodies,
            (SELECT count(*)::int FROM pgboss.job) AS jobs`,
  );
  return row;
}

const configMap = (name: string, namespace?: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...(namespace ? { namespace } : {}) },
  data: { key: name },
});

describe('encodings', () => {
  it('multi-document YAML: comments, --- at start and end, empty documents, anchors', async () => {
    const yaml = [
      '# a helm template style header',
      '---',
      'apiVersion: v1',
      'kind: Service',
      'metadata: {name: web, namespace: shop}',
      'spec:',
      '  selector: &sel {app: web}',
      '  ports: [{name: http, port: 80}]',
      '---',
      '---',
      '# an empty document above, a comment-only one here',
      '---',
      'apiVersion: v1',
      'kind: Pod',
      'metadata: {name: web-1, namespace: shop, labels: {app: web}}',
      'spec: {containers: [{name: web, image: nginx}]}',
      '---',
    ].join('\n');
    const res = await upload(yaml);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'test', status: 'PENDING', resourceCount: 2, warnings: [] });
    const stored = await storedResources(res.body.id);
    expect(stored.map((r) => `${r.kind}/${r.namespace}/${r.name}`)).toEqual(['Service/shop/web', 'Pod/shop/web-1']);
    expect(stored[0]!.body).toMatchObject({ spec: { selector: { app: 'web' } } });
  });

  it('a JSON object', async () => {
    const res = await upload(JSON.stringify(configMap('one')), 'application/json');
    expect(res.status).toBe(201);
    expect(res.body.resourceCount).toBe(1);
    const [stored] = await storedResources(res.body.id);
    // The namespace kubectl would have applied is written in.
    expect(stored).toMatchObject({ kind: 'ConfigMap', namespace: 'default', name: 'one' });
  });

  it('a JSON array', async () => {
    const res = await upload(JSON.stringify([configMap('a'), configMap('b', 'x')]), 'application/json');
    expect(res.status).toBe(201);
    expect((await storedResources(res.body.id)).map((r) => r.name)).toEqual(['a', 'b']);
  });

  it('a Kubernetes List, as kubectl get -o json prints it', async () => {
    const list = { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: [configMap('a'), configMap('b')] };
    const res = await upload(JSON.stringify(list, null, 2), 'application/json');
    expect(res.status).toBe(201);
    expect((await storedResources(res.body.id)).map((r) => r.name)).toEqual(['a', 'b']);
  });

  it('nested Lists, in YAML, sent as text/plain', async () => {
    const nested = {
      apiVersion: 'v1',
      kind: 'List',
      items: [configMap('a'), { apiVersion: 'v1', kind: 'ConfigMapList', items: [configMap('b'), configMap('c')] }],
    };
    const res = await upload(YAML.stringify(nested), 'text/plain');
    expect(res.status).toBe(201);
    expect((await storedResources(res.body.id)).map((r) => r.name)).toEqual(['a', 'b', 'c']);
  });

  it('JSON sent without a content type is still detected from the body', async () => {
    const res = await request(t.app.getHttpServer())
      .post('/api/v1/snapshots')
      .set('content-type', 'application/octet-stream')
      .send(Buffer.from(JSON.stringify([configMap('raw')])));
    expect(res.status).toBe(201);
    expect(res.body.name).toBeNull();
  });

  it('Secrets keep only kind, namespace, name, type and key names', async () => {
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'creds', namespace: 'shop' },
      type: 'Opaque',
      data: { password: Buffer.from('hunter2').toString('base64') },
      stringData: { token: 'sekret-token' },
    };
    const res = await upload(JSON.stringify(secret), 'application/json');
    expect(res.status).toBe(201);
    const [stored] = await storedResources(res.body.id);
    expect(Object.keys(stored!.body.data as object).sort()).toEqual(['password', 'token']);
    const everything = JSON.stringify(await t.db.query('SELECT body FROM resource_bodies'));
    expect(everything).not.toContain('sekret-token');
    expect(everything).not.toContain(Buffer.from('hunter2').toString('base64'));
  });

  it('unknown kinds are stored, not evaluated, and named in the warnings', async () => {
    const crd = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'shop' }, spec: { size: 3 } };
    const res = await upload(JSON.stringify(crd), 'application/json');
    expect(res.status).toBe(201);
    expect(res.body.warnings).toEqual([expect.stringContaining('Widget shop/w')]);
    const [row] = await storedResources(res.body.id);
    expect(row!.evaluated).toBe(false);
  });

  it('an unchanged resource is stored once across snapshots', async () => {
    const text = JSON.stringify([configMap('shared-body-1'), configMap('shared-body-2')]);
    const first = await upload(text, 'application/json');
    const second = await upload(text, 'application/json');
    expect([first.status, second.status]).toEqual([201, 201]);
    const [row] = await t.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM resource_bodies WHERE body->'metadata'->>'name' LIKE 'shared-body-%'`,
    );
    expect(row!.n).toBe(2);
  });
});

const pod = `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: i}]}\n`;
const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
  .concat(
    'bcdefghi'.split('').map(
      (k, i) =>
        `${k}: &${k} [${Array(9)
          .fill('*' + 'abcdefghi'[i])
          .join(',')}]`,
    ),
  )
  .join('\n');

interface BadInput {
  body: string;
  contentType?: string;
  /** What the detail must say, and where. */
  expect: { message: RegExp; document: number; line?: number; kind?: string; name?: string; path?: string };
}

const BAD_INPUTS: Record<string, BadInput> = {
  'YAML syntax error': {
    body: 'apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n   bad: indent\n',
    expect: { message: /^YAML /, document: 0, line: 4 },
  },
  'JSON syntax error': {
    body: '{"apiVersion": "v1", "kind": "Service",, }',
    contentType: 'application/json',
    expect: { message: /JSON syntax error/, document: 0, line: 1 },
  },
  'YAML sent as application/json': {
    body: 'apiVersion: v1\nkind: Pod\n',
    contentType: 'application/json',
    expect: { message: /JSON syntax error/, document: 0 },
  },
  'missing apiVersion': {
    body: 'kind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 80}]}\n',
    expect: { message: /apiVersion is required/, document: 0, line: 1, kind: 'Service', name: 'a', path: '/apiVersion' },
  },
  'missing kind': {
    body: 'apiVersion: v1\nmetadata: {name: a}\n',
    expect: { message: /kind is required/, document: 0, line: 1, name: 'a', path: '/kind' },
  },
  'missing metadata.name': {
    body: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {namespace: x}\n',
    expect: { message: /metadata.name is required/, document: 0, line: 3, kind: 'ConfigMap', path: '/metadata/name' },
  },
  'missing metadata': {
    body: 'apiVersion: v1\nkind: ConfigMap\n',
    expect: { message: /metadata is required/, document: 0, line: 1, kind: 'ConfigMap' },
  },
  'name not a DNS-1123 subdomain': {
    body: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n',
    expect: { message: /not a valid DNS-1123 subdomain/, document: 0, line: 3, name: 'Bad_Name' },
  },
  'namespace not a DNS-1123 label': {
    body: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: "Not OK"}\n',
    expect: { message: /not a valid DNS-1123 label/, document: 0, line: 3, path: '/metadata/namespace' },
  },
  'apiVersion not a string': {
    body: 'apiVersion: 1\nkind: ConfigMap\nmetadata: {name: a}\n',
    expect: { message: /apiVersion is required \(a non-empty string\)/, document: 0, line: 1 },
  },
  'a document that is a plain string': {
    body: pod + '---\njust a string\n',
    expect: { message: /expected a Kubernetes object.*got a string/, document: 1, line: 6 },
  },
  'a YAML document that is a list': {
    body: '- a\n- b\n',
    expect: { message: /not a list; use kind: List/, document: 0, line: 1 },
  },
  'the same object twice': {
    body: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\n',
    expect: { message: /duplicate ConfigMap default\/a: documents 0 and 1/, document: 1, line: 5 },
  },
  'a duplicate key': {
    body: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\nkind: ConfigMap\n',
    expect: { message: /DUPLICATE_KEY/, document: 0, line: 4 },
  },
  'Service port not a number': {
    body: 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: eighty}]\n',
    expect: { message: /port number from 1 to 65535, got "eighty"/, document: 0, line: 5, path: '/spec/ports/0/port' },
  },
  'Service port out of range, in the second document': {
    body: pod + '---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: 70000}]\n',
    expect: { message: /got 70000/, document: 1, line: 10, kind: 'Service', name: 's' },
  },
  'Service port protocol not TCP/UDP/SCTP': {
    body: 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: 80, protocol: HTTP}]\n',
    expect: { message: /must be one of: TCP, UDP, SCTP/, document: 0, line: 5, path: '/spec/ports/0/protocol' },
  },
  'Service selector not a map': {
    body: 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  selector: [a]\n  ports: [{port: 80}]\n',
    expect: { message: /selector must be a map of strings/, document: 0, line: 5 },
  },
  'Pod IP not an address': {
    body: 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: i}]}\nstatus: {podIP: 10.0.0.300}\n',
    expect: { message: /IPv4 or IPv6 address, got "10.0.0.300"/, document: 0, line: 5, path: '/status/podIP' },
  },
  'Pod label value not a string': {
    body: 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {app: [x]}}\nspec: {containers: [{name: c, image: i}]}\n',
    expect: { message: /must be a string/, document: 0, line: 3, path: '/metadata/labels/app' },
  },
  'Deployment without a pod template': {
    body: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {app: d}}\n',
    expect: { message: /template\/metadata\/labels is required/, document: 0, kind: 'Deployment', name: 'd' },
  },
  'Deployment selector not matching its template': {
    body: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {app: d}}\n  template:\n    metadata: {labels: {app: other}}\n    spec: {containers: [{name: c, image: i}]}\n',
    expect: { message: /selector does not match/, document: 0, line: 5 },
  },
  'VirtualService weight not an integer': {
    body: 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v}\nspec:\n  hosts: [a]\n  http:\n  - route:\n    - destination: {host: a}\n      weight: heavy\n',
    expect: {
      message: /route\[0\].weight in body must be of type integer/,
      document: 0,
      line: 9,
      kind: 'VirtualService',
      path: '/spec/http/0/route/0/weight',
    },
  },
  'VirtualService field name typo': {
    body: 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v}\nspec:\n  hosts: [a]\n  htpp: []\n',
    expect: { message: /strict decoding error: unknown field "spec.htpp"/, document: 0, line: 6, path: '/spec/htpp' },
  },
  'DestinationRule load balancer not in the enum': {
    body: 'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d}\nspec:\n  host: a\n  trafficPolicy: {loadBalancer: {simple: FASTEST}}\n',
    expect: { message: /simple: Unsupported value: "FASTEST": supported values: .*"ROUND_ROBIN"/, document: 0, line: 6 },
  },
  'ServiceEntry without hosts': {
    body: 'apiVersion: networking.istio.io/v1beta1\nkind: ServiceEntry\nmetadata: {name: s}\nspec:\n  ports: [{number: 80, name: http, protocol: HTTP}]\n',
    expect: { message: /spec.hosts: Required value/, document: 0, kind: 'ServiceEntry' },
  },
  'Gateway server without a port': {
    body: 'apiVersion: networking.istio.io/v1alpha3\nkind: Gateway\nmetadata: {name: g}\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n  - hosts: ["*"]\n',
    expect: { message: /spec.servers\[0\].port: Required value/, document: 0, line: 7 },
  },
  'an Istio version no CRD serves': {
    body: 'apiVersion: networking.istio.io/v9\nkind: VirtualService\nmetadata: {name: v}\nspec: {hosts: [a]}\n',
    expect: {
      message: /no matches for kind "VirtualService" in version "networking.istio.io\/v9"/,
      document: 0,
      line: 1,
      path: '/apiVersion',
    },
  },
  'PeerAuthentication mTLS mode not in the enum': {
    body: 'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p}\nspec: {mtls: {mode: SOMETIMES}}\n',
    expect: {
      message: /mode: Unsupported value: "SOMETIMES": supported values: "UNSET", "DISABLE", "PERMISSIVE", "STRICT"/,
      document: 0,
      line: 4,
    },
  },
  'AuthorizationPolicy action not in the enum': {
    body: 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: a}\nspec: {action: MAYBE}\n',
    expect: { message: /spec.action: Unsupported value: "MAYBE"/, document: 0, line: 4 },
  },
  "an alias to another document's anchor": {
    body: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: &d {k: v}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: *d\n',
    expect: { message: /Unresolved alias/, document: 1, line: 9 },
  },
  'a billion laughs': {
    body: laughs,
    expect: { message: /aliases expand exponentially/, document: 0, line: 1 },
  },
  'a List whose items are not an array': {
    body: '{"apiVersion": "v1", "kind": "List", "items": {"a": 1}}',
    contentType: 'application/json',
    expect: { message: /a List must have an items array/, document: 0, path: '/items' },
  },
  'a JSON array holding a number': {
    body: '[{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}, 42]',
    contentType: 'application/json',
    expect: { message: /got a number \(42\)/, document: 1, line: 1 },
  },
  'ConfigMap data value not a string': {
    body: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: {nested: true}}\n',
    expect: { message: /\/data\/k must be a string/, document: 0, line: 4 },
  },
  'mesh config that is not YAML': {
    body: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n    defaultConfig: [\n',
    expect: { message: /\/data\/mesh is not valid YAML/, document: 0, kind: 'ConfigMap', name: 'istio' },
  },
};

describe('bad input: 400, every problem named and located, nothing stored', () => {
  it(`has at least 25 distinct cases (${Object.keys(BAD_INPUTS).length})`, () => {
    expect(Object.keys(BAD_INPUTS).length).toBeGreaterThanOrEqual(25);
  });

  for (const [name, input] of Object.entries(BAD_INPUTS)) {
    it(name, async () => {
      const before = await rowCounts();
      const res = await upload(input.body, input.contentType ?? 'application/yaml');
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid manifests');
      const { message, ...where } = input.expect;
      expect(res.body.details).toContainEqual(expect.objectContaining({ ...where, message: expect.stringMatching(message) }));
      expect(await rowCounts()).toEqual(before);
    });
  }

  it('lists every problem of an upload, not just the first', async () => {
    const body = [
      'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: 0}]',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad}',
      'kind: Pod\nmetadata: {name: p}',
    ].join('\n---\n');
    const res = await upload(body);
    expect(res.status).toBe(400);
    expect(res.body.details.map((d: { document: number }) => d.document)).toEqual([0, 1, 2]);
  });

  it('a malformed JSON body for GraphQL is a 400 with {error, details}', async () => {
    const res = await request(t.app.getHttpServer()).post('/graphql').set('content-type', 'application/json').send('{"query": ');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: expect.any(String), details: [] });
  });
});

describe('body limit', () => {
  let small: INestApplication;
  beforeAll(async () => {
    small = await t.startAnother({ worker: false, config: { maxBodyBytes: 64 * 1024 } });
  });

  it('413 with {error, details} over MESHLENS_MAX_BODY_BYTES, nothing stored', async () => {
    const before = await rowCounts();
    const big = Array.from({ length: 400 }, (_, i) => YAML.stringify(configMap(`cm-${i}`)) + 'x'.repeat(0)).join('---\n');
    const padded = big + '# ' + 'x'.repeat(70 * 1024) + '\n';
    const res = await request(small.getHttpServer()).post('/api/v1/snapshots').set('content-type', 'application/yaml').send(padded);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: 'request body too large', details: [expect.stringContaining('65536')] });
    expect(await rowCounts()).toEqual(before);
  });

  it('413 for a GraphQL body over the limit', async () => {
    const manifests = 'x'.repeat(70 * 1024);
    const res = await request(small.getHttpServer())
      .post('/graphql')
      .send({ query: 'mutation($m: String!) { createSnapshot(manifests: $m) { id } }', variables: { m: manifests } });
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('request body too large');
  });

  it('a body just under the limit is accepted', async () => {
    const res = await request(small.getHttpServer())
      .post('/api/v1/snapshots')
      .set('content-type', 'application/json')
      .send(JSON.stringify(configMap('fits')) + ' '.repeat(60 * 1024));
    expect(res.status).toBe(201);
  });
});

// The conformance corpus (../shared): every case's config must upload, as run.mjs sends it.
const SHARED = path.resolve(process.env.MESHLENS_SHARED_DIR ?? path.join(process.cwd(), '..', 'shared'));
const corpusFiles = ['scenarios', 'conformance/istio-sim']
  .map((dir) => path.join(SHARED, dir))
  .filter((dir) => fs.existsSync(dir))
  .flatMap((dir) =>
    fs
      .readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => path.join(dir, f)),
  );

describe.skipIf(corpusFiles.length === 0)('the scenario corpus uploads', () => {
  for (const file of corpusFiles) {
    it(path.relative(SHARED, file), async () => {
      const corpus = YAML.parse(fs.readFileSync(file, 'utf8')) as { cases: { name: string; config?: string; mesh?: object }[] };
      for (const kase of corpus.cases) {
        let text = kase.config ?? '';
        if (kase.mesh && Object.keys(kase.mesh).length > 0) {
          text +=
            '\n---\n' +
            YAML.stringify({
              apiVersion: 'v1',
              kind: 'ConfigMap',
              metadata: { name: 'istio', namespace: 'istio-system' },
              data: { mesh: YAML.stringify(kase.mesh) },
            });
        }
        const res = await upload(text, 'application/yaml', kase.name);
        expect(res.status, `${kase.name}: ${JSON.stringify(res.body).slice(0, 500)}`).toBe(201);
      }
    });
  }
});
