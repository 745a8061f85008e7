// Validation of decoded objects: what the API server would reject of the built-in kinds, plus the
// essentials meshlens relies on; the kinds of Istio's and the Gateway API's CRDs are the
// generator's to validate (admission), with the embedded release's CRDs and Istio's webhook.
// Every problem is collected, none stops the others.
import { isIP } from 'node:net';
import { LineCounter } from 'yaml';
import { inspectValue, MAX_NESTING_DEPTH, yamlDocuments } from './bounded-yaml.js';
import type { DecodedObject, PathSegment } from './decode.js';
import { isPlainObject, pointerOf } from './decode.js';
import { CONTROLLER_KINDS, GATEWAY_API_GROUP, groupKind, groupOf, isClusterScoped, isEvaluated } from './kinds.js';
import { matchesSelector } from './selectors.js';
import type { AdmissionResult, IngestProblem } from '../model/snapshot.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** IANA service name, the form of a named port: at most 15 characters, at least one letter. */
const IANA_SVC_NAME = /^(?=.*[a-z])[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SERVICE_PROTOCOLS = ['TCP', 'UDP', 'SCTP'];

/** Objects of the API groups whose CRDs the generator holds (Istio's, the Gateway API's): admission validates them. */
export function isAdmitted(decoded: DecodedObject): boolean {
  const { apiVersion, kind } = decoded.object;
  return typeof apiVersion === 'string' && typeof kind === 'string' && kind !== '' && hasCrds(groupOf(apiVersion));
}

function hasCrds(group: string): boolean {
  return group.endsWith('.istio.io') || group === GATEWAY_API_GROUP;
}

/** The API server's or Istio's webhook's refusal of one object, each reason located in the source. */
export function admissionProblems(decoded: DecodedObject, result: AdmissionResult): IngestProblem[] {
  const check = new Checker(decoded);
  for (const error of result.errors ?? []) check.report(error.path, error.message);
  return check.problems;
}

/** The namespace an object lands in, as kubectl decides it; null for cluster-scoped kinds. */
export function effectiveNamespace(object: Record<string, unknown>): string | null {
  if (isClusterScoped(String(object.apiVersion), String(object.kind))) return null;
  const namespace = metadataOf(object).namespace;
  return typeof namespace === 'string' && namespace !== '' ? namespace : 'default';
}

export function metadataOf(object: Record<string, unknown>): Record<string, unknown> {
  return isPlainObject(object.metadata) ? object.metadata : {};
}

/** Collects the problems of one object, each located in the source and naming the object. */
class Checker {
  readonly problems: IngestProblem[] = [];

  constructor(readonly decoded: DecodedObject) {}

  get object(): Record<string, unknown> {
    return this.decoded.object;
  }

  /** One problem per path: the first check to speak about a field says it best. */
  report(path: readonly PathSegment[], message: string, position = this.decoded.locate(path)): void {
    const pointer = pointerOf(path);
    if (this.problems.some((problem) => problem.path === pointer)) return;
    const metadata = metadataOf(this.object);
    this.problems.push({
      document: this.decoded.document,
      ...(position ?? { line: this.decoded.line, column: this.decoded.column }),
      ...stringField('kind', this.object.kind),
      ...stringField('namespace', metadata.namespace),
      ...stringField('name', metadata.name),
      path: pointer,
      message,
    });
  }

  /** Reports a member that must be a map of strings (labels, selectors, ConfigMap data). */
  stringMap(path: readonly PathSegment[], value: unknown): value is Record<string, string> {
    if (value === undefined) return false;
    if (!isPlainObject(value)) {
      this.report(path, `${pointerOf(path)} must be a map of strings`);
      return false;
    }
    let ok = true;
    for (const [key, member] of Object.entries(value)) {
      if (typeof member !== 'string') {
        ok = false;
        this.report(
          [...path, key],
          `${pointerOf([...path, key])} must be a string, got ${typeof member} ${JSON.stringify(member)} (quote it in YAML)`,
        );
      }
    }
    return ok;
  }
}

function stringField<K extends string>(key: K, value: unknown): Partial<Record<K, string>> {
  return typeof value === 'string' && value !== '' ? ({ [key]: value } as Record<K, string>) : {};
}

/** The problems of one object (the duplicates across objects are duplicateProblems'). */
export function validateObject(decoded: DecodedObject): IngestProblem[] {
  const check = new Checker(decoded);
  if (!checkTypeMeta(check)) return check.problems;
  const apiVersion = String(decoded.object.apiVersion);
  const kind = String(decoded.object.kind);
  // Kinds meshlens does not know are "stored, never an error" (api-contract.md): they only need
  // a name to be stored under; their own naming rules (e.g. `system:` ClusterRoles) are not ours.
  if (isEvaluated(apiVersion, kind) || hasCrds(groupOf(apiVersion))) {
    checkMetadata(check);
    checkKind(check, apiVersion, kind);
  } else {
    checkNamePresent(check);
  }
  return check.problems;
}

function checkTypeMeta(check: Checker): boolean {
  let ok = true;
  for (const field of ['apiVersion', 'kind']) {
    const value = check.object[field];
    if (typeof value !== 'string' || value === '') {
      check.report([field], `${field} is required (a non-empty string)`);
      ok = false;
    }
  }
  return ok;
}

function checkMetadata(check: Checker): void {
  const metadata = check.object.metadata;
  if (!isPlainObject(metadata)) {
    check.report(['metadata'], 'metadata is required (a mapping with at least a name)');
    return;
  }
  checkName(check);
  const namespace = metadata.namespace;
  if (namespace !== undefined && (typeof namespace !== 'string' || !isDns1123Label(namespace))) {
    check.report(['metadata', 'namespace'], `metadata.namespace ${JSON.stringify(namespace)} ${DNS_RULES.label}`);
  }
  check.stringMap(['metadata', 'labels'], metadata.labels);
  check.stringMap(['metadata', 'annotations'], metadata.annotations);
}

const DNS_RULES = {
  label:
    'is not a valid DNS-1123 label (lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters)',
  subdomain:
    'is not a valid DNS-1123 subdomain (lowercase letters, digits, "-" and ".", starting and ending with a letter or digit, at most 253 characters)',
  dns1035:
    'is not a valid DNS-1035 label (lowercase letters, digits and "-", starting with a letter, ending with a letter or digit, at most 63 characters)',
};

function checkNamePresent(check: Checker): boolean {
  const name = metadataOf(check.object).name;
  if (typeof name === 'string' && name !== '') return true;
  check.report(['metadata', 'name'], 'metadata.name is required (a non-empty string)');
  return false;
}

function checkName(check: Checker): void {
  if (!checkNamePresent(check)) return;
  const name = metadataOf(check.object).name as string;
  // Namespaces become DNS labels, Services DNS-1035 labels (their names are hostnames).
  const kind = groupKind(String(check.object.apiVersion), String(check.object.kind));
  const rule = kind === '/Namespace' ? 'label' : kind === '/Service' ? 'dns1035' : 'subdomain';
  const valid =
    rule === 'label' ? isDns1123Label(name) : rule === 'dns1035' ? name.length <= 63 && DNS1035_LABEL.test(name) : isDns1123Subdomain(name);
  if (!valid) check.report(['metadata', 'name'], `metadata.name ${JSON.stringify(name)} ${DNS_RULES[rule]}`);
}

function isDns1123Label(value: string): boolean {
  return value.length <= 63 && DNS1123_LABEL.test(value);
}

function isDns1123Subdomain(value: string): boolean {
  return value.length <= 253 && DNS1123_SUBDOMAIN.test(value);
}

function checkKind(check: Checker, apiVersion: string, kind: string): void {
  const key = groupKind(apiVersion, kind);
  if (key === '/Service') checkService(check);
  else if (key === '/Pod') checkPod(check);
  else if (CONTROLLER_KINDS.has(key)) checkController(check);
  else if (key === '/ConfigMap') checkConfigMap(check);
}

function checkService(check: Checker): void {
  const spec = isPlainObject(check.object.spec) ? check.object.spec : {};
  if (spec.ports !== undefined && !Array.isArray(spec.ports)) {
    check.report(['spec', 'ports'], '/spec/ports must be a list');
  }
  if (Array.isArray(spec.ports)) spec.ports.forEach((port, index) => checkServicePort(check, port, ['spec', 'ports', index]));
  check.stringMap(['spec', 'selector'], spec.selector);
}

function checkServicePort(check: Checker, port: unknown, path: PathSegment[]): void {
  const at = (field: string) => [...path, field];
  if (!isPlainObject(port)) {
    check.report(path, `${pointerOf(path)} must be a mapping with a port`);
    return;
  }
  if (!isPortNumber(port.port)) {
    check.report(at('port'), `${pointerOf(at('port'))} must be a port number from 1 to 65535, got ${JSON.stringify(port.port)}`);
  }
  const target = port.targetPort;
  if (target !== undefined && !isPortNumber(target) && !(typeof target === 'string' && target.length <= 15 && IANA_SVC_NAME.test(target))) {
    check.report(
      at('targetPort'),
      `${pointerOf(at('targetPort'))} must be a port number from 1 to 65535 or a container port name (IANA_SVC_NAME), got ${JSON.stringify(target)}`,
    );
  }
  if (port.protocol !== undefined && !SERVICE_PROTOCOLS.includes(port.protocol as string)) {
    check.report(
      at('protocol'),
      `${pointerOf(at('protocol'))} must be one of: ${SERVICE_PROTOCOLS.join(', ')}, got ${JSON.stringify(port.protocol)}`,
    );
  }
}

export function isPortNumber(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535;
}

function checkPod(check: Checker): void {
  const status = isPlainObject(check.object.status) ? check.object.status : {};
  if (status.podIP !== undefined && !(typeof status.podIP === 'string' && isIP(status.podIP))) {
    check.report(['status', 'podIP'], `/status/podIP must be an IPv4 or IPv6 address, got ${JSON.stringify(status.podIP)}`);
  }
  if (Array.isArray(status.podIPs)) {
    status.podIPs.forEach((entry, index) => {
      const ip = isPlainObject(entry) ? entry.ip : undefined;
      if (!(typeof ip === 'string' && isIP(ip))) {
        check.report(
          ['status', 'podIPs', index, 'ip'],
          `/status/podIPs/${index}/ip must be an IPv4 or IPv6 address, got ${JSON.stringify(ip)}`,
        );
      }
    });
  }
}

/** apps/v1 requires a selector, and the API server rejects one that does not select the template. */
function checkController(check: Checker): void {
  const spec = isPlainObject(check.object.spec) ? check.object.spec : {};
  const template = isPlainObject(spec.template) ? spec.template : {};
  const templateLabels = metadataOf(template).labels;
  if (templateLabels === undefined || (isPlainObject(templateLabels) && Object.keys(templateLabels).length === 0)) {
    check.report(
      ['spec', 'template', 'metadata', 'labels'],
      '/spec/template/metadata/labels is required (the pods need labels for the selector to match)',
    );
    return;
  }
  if (!check.stringMap(['spec', 'template', 'metadata', 'labels'], templateLabels)) return;
  const selector = spec.selector;
  if (!isPlainObject(selector) || (selector.matchLabels === undefined && selector.matchExpressions === undefined)) {
    check.report(['spec', 'selector'], '/spec/selector is required (matchLabels or matchExpressions)');
    return;
  }
  if (selector.matchLabels !== undefined && !check.stringMap(['spec', 'selector', 'matchLabels'], selector.matchLabels)) return;
  if (!matchesSelector(selector, templateLabels)) {
    check.report(
      ['spec', 'selector'],
      '/spec/selector does not match /spec/template/metadata/labels: every selector label must be a template label with the same value',
    );
  }
}

function checkConfigMap(check: Checker): void {
  const data = check.object.data;
  check.stringMap(['data'], data);
  if (metadataOf(check.object).name === 'istio' && isPlainObject(data) && typeof data.mesh === 'string') {
    checkMeshConfig(check, data.mesh);
  }
}

/** ConfigMap `istio`, key `mesh`: istiod refuses to start on a mesh config it cannot parse. */
function checkMeshConfig(check: Checker, mesh: string): void {
  const path = ['data', 'mesh'];
  const lineCounter = new LineCounter();
  const report = (offset: number | undefined, message: string) => {
    const inner = offset === undefined ? undefined : lineCounter.linePos(offset);
    const position = inner && check.decoded.locateInside(path, { line: inner.line, column: inner.col });
    check.report(path, `/data/mesh ${message}${inner ? ` (line ${inner.line} of the mesh config)` : ''}`, position);
  };
  const { documents, tooDeep } = yamlDocuments(mesh, lineCounter);
  if (tooDeep) return report(tooDeep.offset, `has mappings and sequences nested deeper than ${MAX_NESTING_DEPTH} levels`);
  const [doc, second] = documents;
  if (second) return report(second.range[0], 'must be one YAML document');
  if (!doc) return;
  for (const error of doc.errors) report(error.pos[0], `is not valid YAML: ${error.message}`);
  if (doc.errors.length > 0 || doc.contents === null) return;
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return report(doc.contents.range?.[0], `is not valid YAML: ${(error as Error).message}`);
  }
  const [problem] = inspectValue(value, Math.max(100_000, 4 * mesh.length)).problems;
  if (problem) return report(doc.contents.range?.[0], `${pointerOf(problem.path)}: ${problem.message}`);
  if (!isPlainObject(value)) check.report(path, '/data/mesh must be a YAML mapping (a MeshConfig)');
}

/** The API server keeps one object per group, kind, namespace and name: a second one is a mistake. */
/** Objects that another earlier object of the upload already defines (same group, kind, namespace, name). */
export function duplicateProblems(objects: DecodedObject[]): IngestProblem[] {
  const first = new Map<string, DecodedObject>();
  const problems: IngestProblem[] = [];
  for (const decoded of objects) {
    const { apiVersion, kind } = decoded.object;
    const name = metadataOf(decoded.object).name;
    if (typeof apiVersion !== 'string' || typeof kind !== 'string' || typeof name !== 'string') continue;
    const namespace = effectiveNamespace(decoded.object);
    const key = JSON.stringify([groupOf(apiVersion), kind, namespace, name]);
    const earlier = first.get(key);
    if (!earlier) {
      first.set(key, decoded);
      continue;
    }
    const where = `document ${earlier.document}${earlier.line ? ` (line ${earlier.line})` : ''}`;
    problems.push({
      document: decoded.document,
      ...(decoded.line ? { line: decoded.line, column: decoded.column } : {}),
      kind,
      ...(namespace ? { namespace } : {}),
      name,
      path: '/metadata/name',
      message: `duplicate ${kind} ${namespace ? `${namespace}/` : ''}${name}: documents ${earlier.document} and ${decoded.document} define the same object (first in ${where})`,
    });
  }
  return problems;
}
