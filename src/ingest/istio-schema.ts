// Schema validation of Istio objects with @kubernetes-models/istio: its models carry ajv
// validators compiled from Istio's own CRD schemas.
import * as networkingV1 from '@kubernetes-models/istio/networking.istio.io/v1';
import * as networkingV1alpha3 from '@kubernetes-models/istio/networking.istio.io/v1alpha3';
import * as networkingV1beta1 from '@kubernetes-models/istio/networking.istio.io/v1beta1';
import * as securityV1 from '@kubernetes-models/istio/security.istio.io/v1';
import * as securityV1beta1 from '@kubernetes-models/istio/security.istio.io/v1beta1';

export interface SchemaViolation {
  path: string[];
  message: string;
}

interface ModelClass {
  apiVersion: string;
  kind: string;
  prototype: { validate(this: unknown): void };
}

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** `apiVersion/kind` -> model. The package's root index only exposes namespaces, hence this map. */
const MODELS = new Map<string, ModelClass>();
for (const module of [networkingV1, networkingV1beta1, networkingV1alpha3, securityV1, securityV1beta1]) {
  for (const model of Object.values(module) as unknown[]) {
    if (isModelClass(model)) MODELS.set(`${model.apiVersion}/${model.kind}`, model);
  }
}

function isModelClass(value: unknown): value is ModelClass {
  return typeof value === 'function' && typeof (value as Partial<ModelClass>).kind === 'string';
}

/** The versions of a group that define a kind, e.g. EnvoyFilter -> ["networking.istio.io/v1alpha3"]. */
export function istioVersionsOf(group: string, kind: string): string[] {
  return [...MODELS.values()]
    .filter((model) => model.kind === kind && model.apiVersion.startsWith(`${group}/`))
    .map((model) => model.apiVersion);
}

export function hasIstioModel(apiVersion: string, kind: string): boolean {
  return MODELS.has(`${apiVersion}/${kind}`);
}

/**
 * Every schema violation of an Istio object, unknown fields included; undefined when there is
 * no model for its apiVersion/kind.
 */
export function istioSchemaViolations(object: Record<string, unknown>): SchemaViolation[] | undefined {
  const model = MODELS.get(`${String(object.apiVersion)}/${String(object.kind)}`);
  if (!model) return undefined;
  const reads = new ReadRecorder();
  let errors: AjvError[] = [];
  try {
    model.prototype.validate.call(reads.watch(object, []));
  } catch (error) {
    errors = (error as { errors?: AjvError[] }).errors ?? [];
  }
  return dedupe([...errors.filter(isReported).map(violationOf), ...reads.unknownFields()]);
}

/**
 * ajv also reports why each alternative of a oneOf/anyOf failed; the summary error at the
 * same place says it better.
 */
function isReported(error: AjvError): boolean {
  return error.keyword !== 'not' && error.keyword !== 'if';
}

function violationOf(error: AjvError): SchemaViolation {
  const path = parsePointer(error.instancePath);
  if (error.keyword === 'required') {
    const missing = String(error.params.missingProperty);
    return { path: [...path, missing], message: `${pointerOf([...path, missing])} is required` };
  }
  if (error.keyword === 'enum') {
    const allowed = (error.params.allowedValues as unknown[]).map(String).join(', ');
    return { path, message: `${pointerOf(path)} must be one of: ${allowed}` };
  }
  if (error.keyword === 'oneOf') {
    return { path, message: `${pointerOf(path)} must set exactly one of its alternative fields` };
  }
  return { path, message: `${pointerOf(path)} ${error.message ?? error.keyword}` };
}

function dedupe(violations: SchemaViolation[]): SchemaViolation[] {
  const seen = new Set<string>();
  return violations.filter((violation) => !seen.has(violation.message) && seen.add(violation.message));
}

/**
 * The CRD schemas ship only as ajv standalone code, and CRD schemas do not forbid unknown
 * fields anyway (`htpp:` would pass). The compiled validator reads, on every object it
 * validates, each property its schema declares; so the keys it read are the known fields.
 * Objects it enumerated are maps (additionalProperties) and objects it read nothing from are
 * free-form (x-kubernetes-preserve-unknown-fields, e.g. an EnvoyFilter patch value): any key
 * goes there.
 */
class ReadRecorder {
  private readonly reads = new Map<object, { path: string[]; keys: Set<string>; enumerated: boolean }>();
  private readonly proxies = new WeakMap<object, object>();

  watch<T>(value: T, path: string[]): T {
    if (value === null || typeof value !== 'object') return value;
    const cached = this.proxies.get(value);
    if (cached) return cached as T;
    const record = { path, keys: new Set<string>(), enumerated: false };
    this.reads.set(value, record);
    const proxy = new Proxy(value, {
      get: (target, key) => {
        const member = Reflect.get(target, key);
        if (typeof key !== 'string') return member;
        record.keys.add(key);
        return Object.hasOwn(target, key) ? this.watch(member, [...path, key]) : member;
      },
      has: (target, key) => {
        if (typeof key === 'string') record.keys.add(key);
        return Reflect.has(target, key);
      },
      getOwnPropertyDescriptor: (target, key) => {
        if (typeof key === 'string') record.keys.add(key);
        return Reflect.getOwnPropertyDescriptor(target, key);
      },
      ownKeys: (target) => {
        record.enumerated = true;
        return Reflect.ownKeys(target);
      },
    });
    this.proxies.set(value, proxy);
    return proxy;
  }

  unknownFields(): SchemaViolation[] {
    const violations: SchemaViolation[] = [];
    for (const [object, { path, keys, enumerated }] of this.reads) {
      if (Array.isArray(object) || enumerated || keys.size === 0) continue;
      for (const key of Object.keys(object)) {
        if (!keys.has(key)) violations.push({ path: [...path, key], message: `${pointerOf([...path, key])}: unknown field "${key}"` });
      }
    }
    return violations;
  }
}

function parsePointer(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** RFC 6901 JSON pointer of a path. */
export function pointerOf(path: readonly (string | number)[]): string {
  return path.map((segment) => `/${String(segment).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}
