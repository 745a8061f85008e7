// An upload in, the snapshot's resources (or every problem of the upload) out.
import { canonicalJson, jsonHash } from '../model/canonical.js';
import type { Admission, AdmissionResult, IngestProblem, IngestResult, PreparedUpload, SnapshotResource } from '../model/snapshot.js';
import { decodeManifestsInSteps, isPlainObject, MAX_PROBLEMS, type DecodedObject } from './decode.js';
import { groupKind, isEvaluated } from './kinds.js';
import { SECRET_FACTS_ANNOTATION, secretFacts } from './secret-facts.js';
import { admissionProblems, duplicateProblems, effectiveNamespace, isAdmitted, metadataOf, validateObject } from './validate.js';

export const EMPTY_UPLOAD_WARNING =
  'no objects: the snapshot is an empty mesh (the upload is empty, or holds only comments, empty documents or empty lists)';

/** Istio's label of a remote cluster's kubeconfig Secret (pkg/kube/multicluster). */
const MULTICLUSTER_LABEL = 'istio/multiCluster';

/** `admit` answers for the objects of Istio's and the Gateway API's kinds, as a cluster's API server would. */
export function ingest(text: string, contentType: string | undefined, admit: Admission): Promise<IngestResult> {
  return decodeAndAdmit(text, contentType, admit, (resources) => resources);
}

/**
 * ingest, then each body's canonical JSON and hash: all the CPU work of an upload, done on an
 * ingest thread (`admit` asks that thread's generator), the JSON while the generator admits.
 */
export function prepareUpload(text: string, contentType: string | undefined, admit: Admission): Promise<PreparedUpload> {
  return decodeAndAdmit(text, contentType, admit, (resources) =>
    resources.map(({ body, ...resource }) => {
      const json = canonicalJson(body);
      return { resource, json, hash: jsonHash(json) };
    }),
  );
}

/**
 * The objects admission reads: those of admitted kinds whose document no problem refused (an
 * object whose metadata the API server cannot decode goes no further: no schema, no webhook).
 */
function admissible(objects: DecodedObject[], problems: IngestProblem[]): DecodedObject[] {
  const refused = new Set(problems.map((problem) => problem.document));
  return objects.filter((decoded) => isAdmitted(decoded) && !refused.has(decoded.document));
}

/**
 * Decodes and validates the upload, asks `admit`, and, while the generator answers, runs
 * `prepare` on the resources of an upload nothing refused yet (wasted if admission refuses it).
 * The objects of each step of the decoding (decodeManifestsInSteps) are sent for admission at
 * once, so that the generator admits them while the rest is built and checked (on another core);
 * an object refused later on (a duplicate) has its answer dropped, as if it had not been sent.
 */
async function decodeAndAdmit<R>(
  text: string,
  contentType: string | undefined,
  admit: Admission,
  prepare: (resources: SnapshotResource[]) => R[],
): Promise<{ ok: true; resources: R[]; warnings: string[] } | { ok: false; problems: IngestProblem[] }> {
  const sent = new Map<DecodedObject, { answers: Promise<AdmissionResult[]>; index: number }>();
  const send = (objects: DecodedObject[]) => {
    // Sent with the namespace kubectl would give them: Istio's webhook reads it.
    const answers = admit(objects.map((decoded) => withNamespace(decoded.object, effectiveNamespace(decoded.object))));
    // Awaited below, unless the step's objects are not the result's (a failure then is no answer's).
    answers.catch(() => undefined);
    objects.forEach((decoded, index) => sent.set(decoded, { answers, index }));
  };
  // Each object validated as it is decoded: decoding stops at MAX_PROBLEMS, whoever finds them.
  const { objects, problems, checked } = await decodeManifestsInSteps(text, contentType, validateObject, (step) => {
    const admittedNow = admissible(step.objects, step.checked);
    if (admittedNow.length > 0) send(admittedNow);
  });
  const found = [...checked, ...duplicateProblems(objects)];
  const admitted = admissible(objects, found);
  const unsent = admitted.filter((decoded) => !sent.has(decoded));
  if (unsent.length > 0) send(unsent);
  const resources = problems.length + found.length === 0 ? objects.map(toResource) : [];
  const prepared = prepare(resources);
  const answers = await Promise.all(
    admitted.map(async (decoded) => {
      const { answers, index } = sent.get(decoded)!;
      return (await answers)[index];
    }),
  );
  const all: IngestProblem[] = [
    ...problems,
    ...found,
    ...admitted.flatMap((decoded, index) => admissionProblems(decoded, answers[index] ?? {})),
  ];
  if (all.length > 0) {
    all.sort((a, b) => a.document - b.document || (a.line ?? 0) - (b.line ?? 0));
    if (all.length <= MAX_PROBLEMS) return { ok: false, problems: all };
    const last = all[MAX_PROBLEMS - 1];
    const more = { document: last.document, message: `more problems not listed: the first ${MAX_PROBLEMS} are; decoding stops there` };
    return { ok: false, problems: [...all.slice(0, MAX_PROBLEMS), more] };
  }
  // kubectl apply refuses an empty upload ("no objects passed to apply"), but a snapshot is a
  // cluster's state, not an apply: an empty mesh is a state Istio computes config for (a sidecar
  // with no services still gets its listeners; Istio's TestLoop asks exactly that), and the head
  // of a change that removes every manifest must be diffable. So it is stored, with a warning.
  if (objects.length === 0) return { ok: true, resources: [], warnings: [EMPTY_UPLOAD_WARNING] };
  const warnings = [
    ...admitted.flatMap((decoded, index) => (answers[index]?.warnings ?? []).map((warning) => `${describe(decoded.object)}: ${warning}`)),
    ...resources
      .filter((resource) => !resource.evaluated)
      .map((resource) => `${resource.kind} ${qualifiedName(resource)}: kind not evaluated, stored only`),
  ];
  return { ok: true, resources: prepared, warnings };
}

function describe(object: Record<string, unknown>): string {
  const namespace = effectiveNamespace(object);
  const name = String(metadataOf(object).name);
  return `${String(object.kind)} ${namespace === null ? name : `${namespace}/${name}`}`;
}

function qualifiedName({ namespace, name }: SnapshotResource): string {
  return namespace === null ? name : `${namespace}/${name}`;
}

function toResource(decoded: DecodedObject): SnapshotResource {
  const apiVersion = decoded.object.apiVersion as string;
  const kind = decoded.object.kind as string;
  const namespace = effectiveNamespace(decoded.object);
  const body = groupKind(apiVersion, kind) === '/Secret' ? withoutSecretValues(decoded.object) : withNamespace(decoded.object, namespace);
  return {
    apiVersion,
    kind,
    namespace,
    name: metadataOf(decoded.object).name as string,
    evaluated: isEvaluated(apiVersion, kind),
    body,
    document: decoded.document,
    ...(decoded.line ? { line: decoded.line } : {}),
  };
}

/** The namespace kubectl would have applied, written into the body the generator reads; none on cluster-scoped kinds. */
function withNamespace(object: Record<string, unknown>, namespace: string | null): Record<string, unknown> {
  const { namespace: _ignored, ...metadata } = metadataOf(object);
  return { ...object, metadata: namespace === null ? metadata : { ...metadata, namespace } };
}

/**
 * A Secret is stored as kind, namespace, name, type and key names only (api-contract.md). The
 * keys stay under `data`, each with an empty value, so the stored object still has the shape
 * of a Secret; `stringData` keys are merged in as the API server would. Everything else goes,
 * annotations included (`kubectl.kubernetes.io/last-applied-configuration` holds a copy of the
 * values), except the label that marks a remote cluster's secret (Istio's meshNetworks analyzer
 * reads it) and the facts checked of the values (secret-facts.ts), as an annotation.
 */
function withoutSecretValues(object: Record<string, unknown>): Record<string, unknown> {
  const metadata = metadataOf(object);
  const keys = [object.data, object.stringData].flatMap((map) => (isPlainObject(map) ? Object.keys(map) : []));
  const labels = isPlainObject(metadata.labels) ? metadata.labels : {};
  const multiCluster = labels[MULTICLUSTER_LABEL];
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    metadata: {
      name: metadata.name,
      namespace: effectiveNamespace(object),
      ...(typeof multiCluster === 'string' ? { labels: { [MULTICLUSTER_LABEL]: multiCluster } } : {}),
      annotations: { [SECRET_FACTS_ANNOTATION]: JSON.stringify(secretFacts(object)) },
    },
    ...(typeof object.type === 'string' ? { type: object.type } : {}),
    data: Object.fromEntries([...new Set(keys)].sort().map((key) => [key, ''])),
  };
}
