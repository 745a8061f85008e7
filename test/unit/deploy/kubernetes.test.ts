// deploy/kubernetes (a kustomize base) checked against the Kubernetes API's own schemas
// (kubernetes-models: the OpenAPI schemas of the API server, validated with ajv), and its facts
// against the repository: every file listed, probes on routes the service serves, the API
// without an in-process worker and with access control, the worker started as `main.js worker`.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const BASE = join(ROOT, 'deploy', 'kubernetes');

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/Service': Service,
};

interface Manifest {
  file: string;
  object: Record<string, any>;
}

const kustomization = parse(readFileSync(join(BASE, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
const manifests: Manifest[] = kustomization.resources.flatMap((file) =>
  parseAllDocuments(readFileSync(join(BASE, file), 'utf8')).map((doc) => ({ file, object: doc.toJS() as Record<string, any> })),
);
const byName = (kind: string, name: string) => manifests.find((m) => m.object.kind === kind && m.object.metadata.name === name)!.object;
const env = (container: Record<string, any>) =>
  Object.fromEntries((container.env as { name: string; value?: string }[]).map((e) => [e.name, e.value ?? 'from secret']));

describe('deploy/kubernetes', () => {
  it('the kustomization lists every manifest of the folder, and only those', () => {
    const files = readdirSync(BASE).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
  });

  it.each(manifests.map((m) => [`${m.file}: ${m.object.kind} ${m.object.metadata?.name}`, m] as const))(
    '%s is valid against the Kubernetes schema',
    (_, { object }) => {
      const model = MODELS[`${object.apiVersion}/${object.kind}`];
      expect(model, `no schema for ${object.apiVersion} ${object.kind}`).toBeDefined();
      // The manifests are read as plain YAML: the schema, not the type system, is what judges them.
      expect(() => new model(object as never).validate()).not.toThrow();
    },
  );

  it('the schema check does refuse a broken object', () => {
    const broken = structuredClone(byName('Deployment', 'meshlens-api'));
    broken.spec.replicas = 'two';
    delete broken.spec.selector;
    // Deliberately ill-typed: the validator must refuse what TypeScript would.
    expect(() => new Deployment(broken as never).validate()).toThrow();
  });

  it('the API: probes on /healthz and /readyz, listening beyond loopback, access control on, no in-process worker', () => {
    const api = byName('Deployment', 'meshlens-api');
    const [container] = api.spec.template.spec.containers;
    expect(container.args).toEqual(['serve']);
    expect(env(container)).toMatchObject({ HOST: '0.0.0.0', MESHLENS_AUTH: 'tokens', MESHLENS_WORKER_CONCURRENCY: '0' });
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.resources.requests).toBeDefined();
    expect(container.env.find((e: { name: string }) => e.name === 'DATABASE_URL').valueFrom.secretKeyRef.name).toBe('meshlens-database');
    // The service routes it serves (src/health).
    expect(readFileSync(join(ROOT, 'src', 'health', 'health.controller.ts'), 'utf8')).toMatch(/@Get\('healthz'\)[\s\S]*@Get\('readyz'\)/);
  });

  it('the worker: a Deployment of its own running `node dist/src/main.js worker`', () => {
    const worker = byName('Deployment', 'meshlens-worker');
    const [container] = worker.spec.template.spec.containers;
    expect(container.command).toEqual(['node', 'dist/src/main.js', 'worker']);
    expect(Number(env(container).MESHLENS_WORKER_CONCURRENCY)).toBeGreaterThan(0);
    expect(container.resources.limits.memory).toBeDefined();
  });

  it('the migrations Job runs the typeorm CLI on the data source the build writes', () => {
    const job = byName('Job', 'meshlens-migrations');
    const [container] = job.spec.template.spec.containers;
    expect(container.command).toEqual([
      'node',
      'node_modules/typeorm/cli.js',
      '-d',
      'dist/src/database/cli-data-source.js',
      'migration:run',
    ]);
    expect(existsSync(join(ROOT, 'src', 'database', 'cli-data-source.ts'))).toBe(true);
    expect(existsSync(join(ROOT, 'node_modules', 'typeorm', 'cli.js'))).toBe(true);
  });

  it('the Service selects the API pods on their named port', () => {
    const service = byName('Service', 'meshlens');
    const api = byName('Deployment', 'meshlens-api');
    expect(api.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    expect(api.spec.template.spec.containers[0].ports.map((p: { name: string }) => p.name)).toContain(service.spec.ports[0].targetPort);
  });
});
