import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { mapBounded } from '../common/bounded.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { ProxyConfigStore } from '../database/proxy-config.store.js';
import type { StoredClass } from '../database/snapshot-lists.js';
import { SnapshotStore } from '../database/snapshot.store.js';
import { GeneratorService, type RawAnswer } from '../generator/generator.service.js';
import { GeneratorError, type Methods, type MeshIdentity, type PeerAuthn } from '../generator/protocol.js';
import { UnknownWorkloadError } from '../model/errors.js';
import { CONFIG_KEY, type EnvoyType, type ProxyType, type WorkloadProxy } from '../model/proxy.js';
import { canonicalJson } from '../model/canonical.js';
import { compareStrings } from '../model/compare.js';
import type { MeshSecurity, PeerAuthnResolution } from '../model/mesh-security.js';
import { kubeProxyInput, type Workload } from '../model/snapshot.js';
import type { ConfigRef } from '../model/config-ref.js';
import { ClassesThread } from './classes-thread.js';
import { CONNECTIVITY_MODULE, type ConnectivityConfig } from './derived.js';
import { inputChanges, sameMembership, type InputIdentities } from './reuse.js';
import { normaliseOnThread } from './normalise-thread.js';
import { ClassGrouping, memberClassKey, type AddConfigResult, type ClassMember, type MemberClass } from './proxy-classes.js';

export { classProxyInfo } from './proxy-classes.js';

/** Reports how far a computation got, 0..1; stored on the snapshot for clients to poll. */
export type ProgressReporter = (fraction: number) => Promise<void>;

/** Proxies grouped into classes between two turns of the event loop (ClassGrouping). */
const GROUPING_SLICE = 500;
/** Where the steps before and after the per-class generation leave the progress. */
const BEFORE_CLASSES = 0.15;
const AFTER_CLASSES = 0.95;
/**
 * Snapshots whose generator inputs (inputIdentities) a worker keeps after computing them: a further
 * snapshot's parent is most often the one computed last, and is then not read and normalised again.
 */
const RECENT_INPUTS = 4;

/** What a computation found, for logs and the benchmark. */
export interface ComputeStats {
  proxies: number;
  classes: number;
  /** classes whose members got their own config (istiod wrote a member's identity into it) */
  splitClasses: number;
  generatorRequests: number;
  objects: number;
  nodes: number;
  /** classes whose stored config was taken from an earlier READY snapshot of the mesh (reuseClasses) */
  reusedClasses: number;
  /** Time the job's thread spent on connectivity (reading each class's config, then evaluating), ms. */
  connectivityMs: number;
  /** Connectivity: sender classes, receiver decisions evaluated, stored groups and sending workloads. */
  senderClasses: number;
  connectivityEvaluations: number;
  connectionGroups: number;
  senders: number;
  /** Wall time of each step of the job, ms, in the order they ran (the worker logs them). */
  phases: Record<string, number>;
}

/**
 * Everything derived from a snapshot's resources, computed by the `compute` job: the workloads, the
 * proxy istiod builds for each and its Envoy config (through the generator, once per proxy class),
 * and `istioctl analyze`'s diagnostics. Stored at the end, what references the generated objects in
 * one transaction (ProxyConfigStore.saveComputation), replacing what an earlier attempt stored:
 * idempotent, and all-or-nothing if the worker dies.
 */
@Injectable()
export class ComputeService {
  private readonly logger = new Logger(ComputeService.name);
  /** The inputs of the snapshots computed last (at most RECENT_INPUTS), by snapshot id, oldest first. */
  private readonly recentInputs = new Map<string, InputIdentities>();

  constructor(
    private readonly snapshots: SnapshotStore,
    private readonly proxyConfigs: ProxyConfigStore,
    private readonly generator: GeneratorService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() @Inject(CONNECTIVITY_MODULE) private readonly connectivity?: URL,
  ) {}

  async compute(snapshotId: string, progress: ProgressReporter): Promise<ComputeStats> {
    const phases: Record<string, number> = {};
    const time = phaseTimer(phases);
    const { normalised, identities, version } = await this.normaliseAndLoad(snapshotId, progress, time);
    // Only stored at the end: the session answers them alongside the proxies and the classes
    // (their phases overlap; asked first, the analysis takes the core the proxies leave idle).
    const analysed = Promise.all([
      time('analyze', () => this.generator.ask(snapshotId, 'analyze', undefined)),
      time('gatewayApi', () => this.generator.ask(snapshotId, 'gatewayApi', undefined)),
    ]);
    // Awaited below; a failure meanwhile must not go unhandled when the proxies or the classes fail first.
    analysed.catch(() => undefined);
    const proxies = await time('proxies', () => this.generator.ask(snapshotId, 'proxies', {}));
    await progress(0.1);

    const pods = new Map<string, Record<string, unknown>>();
    for (const o of normalised.generatorInput.kubernetes) {
      if (o.kind !== 'Pod') continue;
      const m = (o.metadata ?? {}) as { namespace?: string; name?: string };
      pods.set(`${m.namespace}/${m.name}`, o);
    }
    const grouping = new ClassGrouping(pods);
    for (let i = 0; i < proxies.length; i += GROUPING_SLICE) {
      if (i > 0) await yieldToLoop();
      for (const wp of proxies.slice(i, i + GROUPING_SLICE)) grouping.add(wp);
    }
    const classes = grouping.classes();
    const stored: StoredClass[] = [];
    const classOf = new Map<string, string>();
    /** Each stored class's key, by the key of the class it was split from (itself when not split). */
    const splitFrom = new Map<string, string>();
    const stats: ComputeStats = {
      proxies: 0,
      classes: 0,
      splitClasses: 0,
      generatorRequests: 0,
      reusedClasses: 0,
      objects: 0,
      nodes: 0,
      connectivityMs: 0,
      senderClasses: 0,
      connectivityEvaluations: 0,
      connectionGroups: 0,
      senders: 0,
      phases,
    };
    const istiodWorkloads = withIstiodProxyTypes(normalised.workloads, proxies);
    // Istio's identity settings and each class's PeerAuthentication, asked while the session is
    // loaded: connectivity reads them, and journeys on the READY snapshot read them stored (no session).
    await progress(BEFORE_CLASSES);
    const mesh = await time('peerAuthentication', () => this.generator.ask(snapshotId, 'mesh', undefined));
    const resolved = new Map<string, PeerAuthn | null>();
    await time('peerAuthentication', () =>
      mapBounded(classes, this.config.computeConcurrency, async (cls) => {
        const rep = cls.workloads[0];
        try {
          resolved.set(
            cls.classKey,
            await this.generator.ask(snapshotId, 'peerAuthentication', {
              proxy: { namespace: rep.namespace, name: rep.name, type: rep.proxy.type },
            }),
          );
        } catch (error) {
          // No proxy: nothing to resolve. Any other failure stays unresolved: a journey asks again and reports it.
          if (error instanceof GeneratorError && error.code === 'NO_PROXY') resolved.set(cls.classKey, null);
        }
      }),
    );
    const inputs = this.remember(snapshotId, await time('inputs', () => identities));
    const reuse = await this.reuseClasses(snapshotId, version.istio, inputs, istiodWorkloads, classes, time);
    const peerAuthentications = new Map<string, ConfigRef | null>();
    for (const cls of classes) {
      const pa = resolved.get(cls.classKey);
      const ref = pa?.peerAuthentication ?? pa?.policies.at(-1) ?? null;
      peerAuthentications.set(cls.classKey, ref ? { kind: 'PeerAuthentication', namespace: ref.namespace ?? '', name: ref.name } : null);
    }
    // Parsing, hashing, the identity check and connectivity run on a thread of the job's own: the
    // generator's answers (MiBs per class) reach it as bytes, never decoded on the API's event loop.
    const thread = new ClassesThread(classes.flatMap((c) => c.workloads));
    // The generator sends each object once per job (hashedProxyConfig), numbering them (refs) in
    // the order it writes its answers: the thread takes the answers in the order they arrive, each
    // handed on as soon as it is received (alike from every ask below, so that none overtakes
    // another), and the refs of a session restarted mid-job as a table of their own.
    const job = randomUUID();
    const report = monotonic(progress);
    let done = 0;
    let collected: Awaited<ReturnType<ClassesThread['finish']>>;
    const classesStarted = performance.now();
    try {
      if (this.connectivity)
        await thread.connectivity(this.connectivity, {
          workloads: istiodWorkloads,
          kubeProxyInput: kubeProxyInput(normalised.generatorInput),
          trustDomain: mesh.trustDomain,
          // Its members by name: their ProxyInfos (MiBs in all) would be copied to the thread for nothing.
          classes: classes.map((c) => ({ ...c, workloads: c.workloads.map(({ namespace, name }) => ({ namespace, name })) })),
          peerAuthentications,
        });
      // Connectivity reads every class's config on the job's thread: a reused one as stored, each
      // object's text once per job.
      const storedConfigs =
        this.connectivity && reuse && reuse.classes.size > 0
          ? await time('reusedConfigs', () => this.sendStoredConfigs([...reuse.classes.values()], thread))
          : new Map<string, StoredConnectivityConfig>();
      await mapBounded(classes, this.config.computeConcurrency, async (cls) => {
        const reused = reuse?.classes.get(cls.classKey);
        if (reuse && reused) {
          stats.reusedClasses++;
          stored.push(reused);
          for (const m of cls.workloads) classOf.set(`${m.namespace}/${m.name}`, cls.classKey);
          const config = storedConfigs.get(reused.configHash);
          if (config) await thread.storedClass({ key: cls.classKey, members: cls.workloads }, config);
        } else {
          for (const unit of await this.generateClass(snapshotId, cls, stats, thread, job)) {
            stored.push({
              classKey: unit.key,
              configHash: unit.added.root,
              proxyInfoHash: unit.added.proxyInfoHash,
              members: unit.members.length,
            });
            for (const m of unit.members) classOf.set(`${m.namespace}/${m.name}`, unit.key);
            splitFrom.set(unit.key, cls.classKey);
          }
        }
        done++;
        await report(BEFORE_CLASSES + ((AFTER_CLASSES - BEFORE_CLASSES) * done) / classes.length);
      });
      phases.classes = performance.now() - classesStarted;
      collected = await time('finish', () => thread.finish());
    } finally {
      await thread.close();
      await this.generator.endJob(snapshotId, job);
    }
    stats.proxies = classOf.size;
    stats.classes = stored.length;
    stats.objects = collected.objects.length;
    stats.nodes = collected.nodes.length;

    const connections = collected.connectivity?.result;
    stats.connectivityMs = collected.connectivity?.ms ?? 0;
    stats.senderClasses = collected.connectivity?.stats.senderClasses ?? 0;
    stats.connectivityEvaluations = collected.connectivity?.stats.evaluations ?? 0;
    stats.connectionGroups = connections?.groups.length ?? 0;
    stats.senders = connections?.senders.length ?? 0;
    await report(AFTER_CLASSES + 0.02);

    const workloads = istiodWorkloads.map((w) => ({
      ...w,
      proxyClass: classOf.get(`${w.namespace}/${w.name}`) ?? null,
    }));
    const [diagnostics, gatewayApi] = await time('analyze wait', () => analysed);
    await time('save', () =>
      this.proxyConfigs.saveComputation(snapshotId, {
        objects: collected.objects,
        nodes: collected.nodes,
        classes: stored,
        reused: [...(reuse?.classes.values() ?? [])],
        workloads,
        istioVersion: version.istio,
        diagnostics,
        gatewayApi,
        connectivity: connections,
        meshSecurity: meshSecurityOf(mesh, resolved, splitFrom),
      }),
    );
    return stats;
  }

  /**
   * The snapshot normalised on a thread (its CPU, the bench mesh's ~0.5 s, would hold the API's
   * requests), then its generator session started from that normalisation rather than reading and
   * normalising the snapshot again. A method of its own so that the session's load params (JSON of
   * MBs: tens on a big mesh) are let go once sent, not held by the compute's closures to its end.
   */
  private async normaliseAndLoad(snapshotId: string, progress: ProgressReporter, time: PhaseTimer) {
    const {
      normalised,
      loadParamsJson,
      inputs: identities,
    } = await time('normalise', () =>
      normaliseOnThread(this.snapshots.resources(snapshotId), (params) => this.generator.deployGateways(params)),
    );
    await progress(0.05);
    const version = await time('session', () => this.generator.ask(snapshotId, 'version', undefined, { loadParamsJson }));
    return { normalised, identities, version };
  }

  /**
   * The classes that take their stored config from the newest earlier READY snapshot of the mesh
   * (computed with the same Istio), as istiod would leave their config alone: the same class
   * (sameMembership), and no change between the two snapshots' inputs that istiod's push logic
   * sends them. Istio decides that (pushScope) against both snapshots' sessions, as istiod checks
   * a proxy's SidecarScope and its previous one: a removed config mattered through the old. Null
   * when there is nothing to reuse; the computation then generates every class.
   */
  private async reuseClasses(
    snapshotId: string,
    istio: string,
    inputs: InputIdentities,
    workloads: Workload[],
    classes: MemberClass[],
    time: PhaseTimer,
  ): Promise<{ base: string; classes: Map<string, StoredClass> } | null> {
    const base = await time('reuse', () => this.snapshots.previousReady(snapshotId, istio));
    if (!base) return null;
    const candidates = sameMembership(classes, workloads, await time('reuse', () => this.proxyConfigs.computed(base)));
    if (candidates.size === 0) return null;
    try {
      const before =
        this.recentInputs.get(base) ??
        (await time('parent', async () => {
          // None when the earlier snapshot went meanwhile: nothing is reused then.
          const resources = await this.snapshots.resources(base);
          if (resources.length === 0) return null;
          return await (
            await normaliseOnThread(Promise.resolve(resources), (params) => this.generator.deployGateways(params))
          ).inputs;
        }));
      if (!before) return null;
      const changes = inputChanges(before, inputs);
      if (changes.meshConfig) return null;
      // The earlier snapshot's session starts here when it is no longer loaded.
      const pushScope = (id: string, params: Methods['pushScope']['params']) =>
        time('pushScope', () => this.generator.ask(id, 'pushScope', params));
      const byKey = new Map(classes.map((c) => [c.classKey, c]));
      const proxyOf = (key: string) => {
        const rep = byKey.get(key)!.workloads[0];
        return { namespace: rep.namespace, name: rep.name };
      };
      // Each session keys the changed objects as it has them and decides with the other's keys too.
      // The new snapshot's first: when it pushes every class (and no pod or Namespace changed), the earlier one's
      // session is not needed.
      let left = [...candidates.keys()];
      const { changed } = changes;
      // A changed pod whose endpoints istiod derives the same in both (a new image, an annotation),
      // or a Namespace whose fields istiod reads are the same (a label nothing selects on), is no
      // change to other proxies: the earlier session's fingerprints of them, when there are any.
      const fingerprinted = changed.filter((c) => (c.kind === 'Pod' || c.kind === 'Namespace') && c.apiVersion === 'v1');
      const fingerprints =
        fingerprinted.length > 0 ? (await pushScope(base, { changed: fingerprinted, proxies: [] })).fingerprints : undefined;
      const now = await pushScope(snapshotId, { changed, fingerprints, proxies: left.map(proxyOf) });
      if (now.forced) return null;
      left = left.filter((_, i) => !now.affected[i]);
      if (left.length > 0) {
        const was = await pushScope(base, {
          changed,
          keys: now.keys,
          fingerprints: now.fingerprints,
          proxies: left.map(proxyOf),
        });
        if (was.forced) return null;
        left = left.filter((_, i) => !was.affected[i]);
        const seen = new Set(now.keys.map((k) => `${k.kind}/${k.namespace}/${k.name}`));
        const more = was.keys.filter((k) => !seen.has(`${k.kind}/${k.namespace}/${k.name}`));
        if (left.length > 0 && more.length > 0) {
          const also = await pushScope(snapshotId, { changed: [], keys: more, proxies: left.map(proxyOf) });
          left = left.filter((_, i) => !also.affected[i]);
        }
      }
      const out = new Map(left.map((key) => [key, candidates.get(key)!]));
      this.logger.log(
        `snapshot ${snapshotId}: ${changes.changed.length} inputs changed since snapshot ${base}; ${out.size} of ${classes.length} classes keep their config`,
      );
      return { base, classes: out };
    } catch (error) {
      // The earlier snapshot is only a shortcut: whatever fails with it, everything is generated.
      this.logger.warn(`snapshot ${snapshotId}: no reuse from snapshot ${base}: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    }
  }

  /** Keeps a computed snapshot's inputs for the next snapshot of its mesh, forgetting the oldest beyond RECENT_INPUTS. */
  private remember(snapshotId: string, inputs: InputIdentities): InputIdentities {
    this.recentInputs.delete(snapshotId);
    this.recentInputs.set(snapshotId, inputs);
    for (const id of this.recentInputs.keys()) {
      if (this.recentInputs.size <= RECENT_INPUTS) break;
      this.recentInputs.delete(id);
    }
    return inputs;
  }

  /**
   * The listeners, clusters and endpoints of the reused classes' stored configs, by config hash, as
   * stored hashes in list order; their objects' text sent to the job's thread once each.
   */
  private async sendStoredConfigs(classes: StoredClass[], thread: ClassesThread): Promise<Map<string, StoredConnectivityConfig>> {
    const roots = [...new Set(classes.map((c) => c.configHash))];
    const refs = await this.proxyConfigs.objectRefsUnder(roots);
    const out = new Map<string, StoredConnectivityConfig>();
    const hashes = new Set<string>();
    for (const root of roots) {
      const objects = refs.get(root);
      if (!objects) throw new Error(`the stored config ${root} of a reused class is gone`);
      const config: StoredConnectivityConfig = { listeners: [], clusters: [], endpoints: [] };
      for (const o of objects) {
        const key = CONFIG_KEY[o.type as EnvoyType];
        if (key !== 'listeners' && key !== 'clusters' && key !== 'endpoints') continue;
        config[key].push(o.hash);
        hashes.add(o.hash);
      }
      out.set(root, config);
    }
    const texts = await this.proxyConfigs.objectTexts([...hashes]);
    if (texts.size !== hashes.size) throw new Error('objects of a reused class are gone');
    await thread.storedObjects([...texts]);
    return out;
  }

  /**
   * The config of a class's representative; when it names a member's identity (see
   * dependsOnIdentity), each member's own config, as a class of its own.
   */
  private async generateClass(
    snapshotId: string,
    cls: MemberClass,
    stats: ComputeStats,
    thread: ClassesThread,
    job: string,
  ): Promise<{ key: string; members: ClassMember[]; added: AddConfigResult }[]> {
    const ask = (m: ClassMember) => {
      stats.generatorRequests++;
      return this.generator.askRaw(snapshotId, 'hashedProxyConfig', { proxy: { namespace: m.namespace, name: m.name }, job });
    };
    const rep = cls.workloads[0];
    let answer: RawAnswer;
    try {
      answer = await ask(rep);
    } catch (error) {
      // Istio failed on this proxy (a panic is that request's error): its members get no stored
      // config, and reading it asks a session again, which reports the error. A dead or stuck
      // generator fails the job instead, to be retried.
      if (
        (error instanceof GeneratorError && ['INTERNAL', 'NO_PROXY', 'BAD_REQUEST'].includes(error.code)) ||
        error instanceof UnknownWorkloadError
      ) {
        this.logger.warn(`snapshot ${snapshotId}: no config for ${rep.namespace}/${rep.name} and its class: ${error.message}`);
        return [];
      }
      throw error;
    }
    const added = await thread.add(answer, { key: cls.classKey, members: cls.workloads }, cls.workloads.length > 1);
    if (!added.dependsOnIdentity) return [{ key: cls.classKey, members: cls.workloads, added }];
    stats.splitClasses++;
    const units = [{ key: memberClassKey(cls.classKey, rep), members: [rep], added }];
    for (const m of cls.workloads.slice(1)) {
      const unit = { key: memberClassKey(cls.classKey, m), members: [m] };
      units.push({ ...unit, added: await thread.add(await ask(m), unit, false) });
    }
    return units;
  }
}

/** What journeys read of a snapshot's security settings, by stored class (a split class's members share its resolution). */
function meshSecurityOf(mesh: MeshIdentity, resolved: Map<string, PeerAuthn | null>, splitFrom: Map<string, string>): MeshSecurity {
  const peerAuthentications: PeerAuthnResolution[] = [];
  const index = new Map<string, number>();
  const classes: Record<string, number | null> = {};
  for (const key of [...splitFrom.keys()].sort(compareStrings)) {
    const pa = resolved.get(splitFrom.get(key)!);
    if (pa === undefined) continue;
    if (pa === null) {
      classes[key] = null;
      continue;
    }
    const kept: PeerAuthnResolution = { mode: pa.mode, peerAuthentication: pa.peerAuthentication, ports: pa.ports ?? {} };
    const text = canonicalJson(kept);
    let i = index.get(text);
    if (i === undefined) {
      i = peerAuthentications.push(kept) - 1;
      index.set(text, i);
    }
    classes[key] = i;
  }
  return { trustDomain: mesh.trustDomain, trustDomainAliases: mesh.trustDomainAliases ?? [], peerAuthentications, classes };
}

/** A stored config's connectivity lists, as the stored hashes of their objects. */
type StoredConnectivityConfig = Record<keyof ConnectivityConfig, string[]>;

type PhaseTimer = <T>(phase: string, step: () => T | Promise<T>) => Promise<T>;

/** Runs a step, adding its wall time to its phase (a phase may run in parts). */
function phaseTimer(phases: Record<string, number>): PhaseTimer {
  return async (phase, step) => {
    const started = performance.now();
    try {
      return await step();
    } finally {
      phases[phase] = (phases[phase] ?? 0) + performance.now() - started;
    }
  };
}

/** Reports in order and only forward, at most once per percent. */
function monotonic(progress: ProgressReporter): ProgressReporter {
  let last = 0;
  let chain = Promise.resolve();
  return (fraction) => {
    if (fraction - last < 0.01 && fraction < AFTER_CLASSES) return chain;
    last = fraction;
    chain = chain.then(() => progress(fraction));
    return chain;
  };
}

/** The proxy type istiod ends up with for each workload: a pod it built no proxy for has none. */
export function withIstiodProxyTypes(workloads: Workload[], proxies: WorkloadProxy[]): Workload[] {
  const built = new Map(proxies.map((p) => [`${p.namespace}/${p.name}`, p]));
  return workloads.map((w) => {
    const p = built.get(`${w.namespace}/${w.name}`);
    if (!p) return w;
    const proxyType: ProxyType = p.proxy ? p.proxy.type : 'NONE';
    return proxyType === w.proxyType ? w : { ...w, proxyType };
  });
}
