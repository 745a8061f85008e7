import { describe, expect, it } from 'vitest';
import { ingestText as ingest } from '../../support/admission.js';
import type { IngestProblem } from '../../../src/model/snapshot.js';

async function problemsOf(text: string, contentType?: string): Promise<IngestProblem[]> {
  const result = await ingest(text, contentType);
  if (result.ok) throw new Error('expected the upload to be refused');
  return result.problems;
}

const ok = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
`;

interface Case {
  name: string;
  text: string;
  contentType?: string;
  expected: { document: number; line?: number; path?: string; message: RegExp; kind?: string; name?: string };
}

/** Each case: one bad input, behind a good document so that document indexes are exercised. */
const cases: Case[] = [
  {
    name: 'YAML syntax error',
    text: `${ok}---\napiVersion: v1\nkind: Service: web\nmetadata: {name: a}\n`,
    expected: { document: 1, line: 6, message: /^YAML \w+: Nested mappings are not allowed in compact mappings/ },
  },
  {
    name: 'bad indentation',
    text: `${ok}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: a\n namespace: b\n`,
    expected: { document: 1, line: 9, message: /^YAML BAD_INDENT: All mapping items must start at the same column/ },
  },
  {
    name: 'duplicate key',
    text: `${ok}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  name: b\n`,
    expected: { document: 1, line: 9, message: /^YAML DUPLICATE_KEY: Map keys must be unique/ },
  },
  {
    name: 'missing apiVersion',
    text: `${ok}---\nkind: Service\nmetadata: {name: a}\n`,
    expected: { document: 1, line: 5, path: '/apiVersion', message: /^apiVersion is required/ },
  },
  {
    name: 'missing kind',
    text: `${ok}---\napiVersion: v1\nmetadata: {name: a}\n`,
    expected: { document: 1, line: 5, path: '/kind', message: /^kind is required/ },
  },
  {
    name: 'missing metadata.name',
    text: `${ok}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  namespace: shop\n`,
    expected: { document: 1, line: 7, path: '/metadata/name', message: /^metadata.name is required/ },
  },
  {
    name: 'name that is not a DNS-1123 subdomain',
    text: `${ok}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: Web_App}\nspec:\n  selector: {matchLabels: {app: web}}\n  template: {metadata: {labels: {app: web}}}\n`,
    expected: {
      document: 1,
      line: 7,
      path: '/metadata/name',
      message: /"Web_App" is not a valid DNS-1123 subdomain \(lowercase/,
      kind: 'Deployment',
      name: 'Web_App',
    },
  },
  {
    name: 'namespace that is not a DNS-1123 label',
    text: `${ok}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: my.team\n`,
    expected: { document: 1, line: 9, path: '/metadata/namespace', message: /metadata.namespace "my.team" is not a valid DNS-1123 label/ },
  },
  {
    name: 'VirtualService weight as a string',
    text: `${ok}---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews, namespace: shop}\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews}\n      weight: "50"\n`,
    expected: {
      document: 1,
      line: 13,
      path: '/spec/http/0/route/0/weight',
      message: /spec.http\[0\].route\[0\].weight in body must be of type integer/,
      kind: 'VirtualService',
      name: 'reviews',
    },
  },
  {
    name: 'VirtualService unknown field (htpp typo)',
    text: `${ok}---\napiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata: {name: reviews}\nspec:\n  hosts: [reviews]\n  htpp:\n  - route:\n    - destination: {host: reviews}\n`,
    expected: { document: 1, line: 10, path: '/spec/htpp', message: /^strict decoding error: unknown field "spec.htpp"$/ },
  },
  {
    name: 'DestinationRule loadBalancer not in the enum',
    text: `${ok}---\napiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\nmetadata: {name: reviews}\nspec:\n  host: reviews\n  trafficPolicy:\n    loadBalancer:\n      simple: FASTEST\n`,
    expected: {
      document: 1,
      line: 12,
      path: '/spec/trafficPolicy/loadBalancer/simple',
      message: /Unsupported value: "FASTEST": supported values: .*"ROUND_ROBIN"/,
    },
  },
  {
    name: 'ServiceEntry without hosts',
    text: `${ok}---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: ext}\nspec:\n  ports: [{number: 443, name: tls, protocol: TLS}]\n  resolution: DNS\n`,
    expected: { document: 1, line: 8, path: '/spec/hosts', message: /^spec.hosts: Required value$/ },
  },
  {
    name: 'Istio kind in a version Istio does not serve it in',
    text: `${ok}---\napiVersion: networking.istio.io/v1\nkind: EnvoyFilter\nmetadata: {name: ef}\nspec: {}\n`,
    expected: {
      document: 1,
      line: 5,
      path: '/apiVersion',
      message: /^no matches for kind "EnvoyFilter" in version "networking.istio.io\/v1" .*v1alpha3/,
    },
  },
  {
    name: "refused by Istio's validating webhook (invalid regex), located at the spec",
    text: `${ok}---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews, namespace: shop}\nspec:\n  hosts: [reviews]\n  http:\n  - match: [{uri: {regex: "("}}]\n    route: [{destination: {host: reviews}}]\n`,
    expected: {
      document: 1,
      line: 8,
      path: '/spec',
      message: /^admission webhook "validation.istio.io" denied the request: configuration is invalid: .*regex/,
    },
  },
  {
    name: 'Gateway API HTTPRoute backend port out of range (its CRD schema)',
    text: `${ok}---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: shop}\nspec:\n  parentRefs: [{name: gw}]\n  rules:\n  - backendRefs:\n    - {name: web, port: 70000}\n`,
    expected: { document: 1, line: 12, path: '/spec/rules/0/backendRefs/0/port', message: /should be less than or equal to 65535/ },
  },
  {
    name: 'Service port out of range',
    text: `${ok}---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports:\n  - port: 80\n  - port: 80800\n`,
    expected: { document: 1, line: 11, path: '/spec/ports/1/port', message: /must be a port number from 1 to 65535, got 80800/ },
  },
  {
    name: 'Service bad protocol',
    text: `${ok}---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports:\n  - port: 80\n    protocol: HTTP\n`,
    expected: { document: 1, line: 11, path: '/spec/ports/0/protocol', message: /must be one of: TCP, UDP, SCTP, got "HTTP"/ },
  },
  {
    name: 'Service bad targetPort name',
    text: `${ok}---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports:\n  - port: 80\n    targetPort: Http_Port\n`,
    expected: { document: 1, line: 11, path: '/spec/ports/0/targetPort', message: /container port name \(IANA_SVC_NAME\)/ },
  },
  {
    name: 'Service selector value not a string',
    text: `${ok}---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector:\n    version: 1.0\n`,
    expected: { document: 1, line: 10, path: '/spec/selector/version', message: /must be a string, got number 1 \(quote it in YAML\)/ },
  },
  {
    name: 'Deployment selector does not match its template',
    text: `${ok}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: webapp}\n`,
    expected: { document: 1, line: 9, path: '/spec/selector', message: /selector does not match \/spec\/template\/metadata\/labels/ },
  },
  {
    name: 'Deployment template without labels',
    text: `${ok}---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n  selector: {matchLabels: {app: db}}\n  template:\n    spec: {}\n`,
    expected: { document: 1, line: 10, path: '/spec/template/metadata/labels', message: /labels is required/ },
  },
  {
    name: 'Pod with an invalid podIP',
    text: `${ok}---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus:\n  podIP: 10.0.0.300\n`,
    expected: { document: 1, line: 9, path: '/status/podIP', message: /must be an IPv4 or IPv6 address/ },
  },
  {
    name: 'Namespace label not a string',
    text: `${ok}---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: other\n  labels:\n    injected: true\n`,
    expected: { document: 1, line: 10, path: '/metadata/labels/injected', message: /must be a string, got boolean true/ },
  },
  {
    name: 'duplicate object (namespace defaulted)',
    text: `${ok}---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\n`,
    expected: {
      document: 2,
      line: 9,
      path: '/metadata/name',
      message: /duplicate Service default\/web: documents 1 and 2 .*first in document 1 \(line 5\)/,
    },
  },
  {
    name: 'scalar document',
    text: `${ok}---\njust some text\n`,
    expected: { document: 1, line: 5, message: /expected a Kubernetes object .*got a string/ },
  },
  {
    name: 'top-level YAML list',
    text: `${ok}---\n- apiVersion: v1\n  kind: Service\n`,
    expected: { document: 1, line: 5, message: /not a list; use kind: List/ },
  },
  {
    name: 'cross-document alias',
    text: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: &shared {k: v}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: *shared\n`,
    expected: { document: 1, line: 9, message: /Unresolved alias .*shared; anchors only reach within their own --- document/ },
  },
  {
    name: 'mesh config that is not YAML',
    text: `${ok}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |-\n    outboundTrafficPolicy:\n      mode: REGISTRY_ONLY\n     accessLogFile: /dev/stdout\n`,
    expected: { document: 1, line: 12, path: '/data/mesh', message: /^\/data\/mesh is not valid YAML: .*\(line 3 of the mesh config\)/ },
  },
  {
    name: 'mesh config that is not a mapping',
    text: `${ok}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: "REGISTRY_ONLY"\n`,
    expected: { document: 1, line: 9, path: '/data/mesh', message: /must be a YAML mapping/ },
  },
  {
    name: 'JSON syntax error',
    text: `[\n  {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}},\n  {"apiVersion": "v1" "kind": "Service"}\n]`,
    contentType: 'application/json',
    expected: { document: 0, line: 3, message: /^JSON syntax error: Expected ',' or '}' after property value/ },
  },
  {
    name: 'JSON duplicate key, attributed to its array element',
    text: `[\n  {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}},\n  {"apiVersion": "v1", "kind": "Service", "kind": "Service", "metadata": {"name": "b"}}\n]`,
    expected: { document: 1, line: 3, message: /^YAML DUPLICATE_KEY/ },
  },
  {
    name: 'List with a bad item',
    text: JSON.stringify(
      {
        apiVersion: 'v1',
        kind: 'List',
        items: [
          { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } },
          { apiVersion: 'v1', kind: 'Service', metadata: { name: 'Bad' } },
        ],
      },
      null,
      2,
    ),
    expected: { document: 1, line: 16, path: '/metadata/name', message: /"Bad" is not a valid DNS-1035 label/ },
  },
  {
    name: 'List item that is not an object',
    text: `apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: a}\n- 42\n`,
    expected: { document: 1, line: 7, message: /got a number \(42\)/ },
  },
  {
    name: 'List without items',
    text: `${ok}---\napiVersion: v1\nkind: List\n`,
    expected: { document: 1, line: 5, path: '/items', message: /a List must have an items array/ },
  },
];

describe('ingest refuses bad input, saying where and what', () => {
  it.each(cases)('$name', async ({ text, contentType, expected }) => {
    const problems = await problemsOf(text, contentType);
    expect(problems).toHaveLength(1);
    const [problem] = problems;
    expect(problem.message).toMatch(expected.message);
    expect(problem).toMatchObject({ ...expected, message: problem.message });
  });

  it('reports every problem of the upload, in document order', async () => {
    const text = `apiVersion: v1\nkind: Service\nmetadata: {name: Bad}\n---\nnot an object\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: vs}\nspec:\n  hosts: [a]\n  htpp: []\n  tpc: []\n`;
    expect((await problemsOf(text)).map((p) => [p.document, p.line, p.path])).toEqual([
      [0, 3, '/metadata/name'],
      [1, 5, undefined],
      [2, 12, '/spec/htpp'],
      [2, 13, '/spec/tpc'],
    ]);
  });

  it('refuses a billion-laughs document without expanding it', async () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) {
      const previous = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`);
    }
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\nlaughs:\n${levels.map((l) => `  ${l}`).join('\n')}\n`;
    const problems = await problemsOf(text);
    expect(problems).toEqual([{ document: 0, line: 1, column: 1, message: expect.stringMatching(/billion laughs/) }]);
  });

  it('refuses alias expansion past the size budget even under the alias count', async () => {
    const items = Array.from({ length: 200 }, (_, i) => `k${i}: v`).join(', ');
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\nbase: &b {${items}}\ncopies: [${Array(999).fill('*b').join(',')}]\n`;
    expect(await problemsOf(text)).toEqual([
      { document: 0, line: 1, column: 1, message: expect.stringMatching(/expands \(through aliases\)/) },
    ]);
  });
});
