// The thread of one compute job (node:worker_threads): parses each class's generated config,
// hashes and stores its objects and tree (EnvoyObjectCollector), checks whether it names a
// member's identity, and reads it for connectivity (jobs/derived.ts), which it builds at the end.
// These are the job's CPU-heavy steps (seconds per class on a large mesh), kept off the event loop
// that serves the API: only hashes and the job's results cross back.
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { EnvoyObjectCollector, objectParts, type PreparedObject, type TreeNode } from '../database/envoy-tree.js';
import type { Connectivity } from '../model/connectivity.js';
import type { EnvoyObject } from '../model/proxy.js';
import type { ConnectivityComputation, ConnectivityConfig, ConnectivityInput, ConnectivityModule, ConnectivityStats } from './derived.js';
import { OBJECT_PART } from './classes-thread.js';
import {
  addGenerated,
  IdentityIndex,
  memberClassKey,
  readGeneratedLine,
  SentObjects,
  type AddConfigResult,
  type ClassMember,
  type Identity,
} from './proxy-classes.js';

/** What the thread starts with: the identities of every workload of the job (an add task's members among them). */
export interface ClassesThreadData {
  identities: Identity[];
}

/** Connectivity computed on the thread: the module to import (a file path) and its input. */
export interface ConnectivityTask {
  op: 'connectivity';
  seq: number;
  module: string;
  input: ConnectivityInput;
}

/** A generated config to add: the generator's answer line, and the class it is of. */
export interface AddConfigTask {
  op: 'add';
  seq: number;
  /** the generator's hashedProxyConfig answer, `{"id":…,"result":…}`, as UTF-8 (answers in the order written) */
  line: Uint8Array;
  /** the generator process that wrote it (GeneratorProcess.serial), whose refs the line's are */
  process: number;
  /** the class: its key and members, the first the one the config was generated for */
  unit: { key: string; members: ClassMember[] };
  /**
   * whether to check if the config names a member's identity (see dependsOnIdentity): when it
   * does, it is the first member's alone, as a class of its own (memberClassKey)
   */
  checkIdentity: boolean;
}

/** Stored objects' JSON text (envoy_objects), by their stored hash: what StoredClassTask names. */
export interface StoredObjectsTask {
  op: 'storedObjects';
  seq: number;
  texts: [hash: string, text: string][];
}

/**
 * A class whose config the job took from an earlier snapshot (reused): read for connectivity only,
 * its objects named by stored hash (sent by StoredObjectsTask), in its config's list order.
 */
export interface StoredClassTask {
  op: 'storedClass';
  seq: number;
  unit: { key: string; members: ClassMember[] };
  config: Record<keyof ConnectivityConfig, string[]>;
}

/**
 * Part `part` of the job's objects, cut to OBJECT_PART (ObjectsPart), once every config is added: a
 * part per message, since taking in one message of all of them (the bench mesh's 64 MB of JSON)
 * held the API's event loop for over 100 ms.
 */
export interface ObjectsTask {
  op: 'objects';
  seq: number;
  part: number;
}

export interface FinishTask {
  op: 'finish';
  seq: number;
}

export type ClassesTask = ConnectivityTask | AddConfigTask | StoredObjectsTask | StoredClassTask | ObjectsTask | FinishTask;

export interface FinishResult {
  objects: PreparedObject[];
  nodes: TreeNode[];
  /** when asked for: the snapshot's connectivity, and the thread's time on it (reading each config, then evaluating), ms */
  connectivity?: { result: Connectivity; stats: ConnectivityStats; ms: number };
}

export type { AddConfigResult };

/** An ObjectsTask's answer; `done`: no object is left after these. */
export interface ObjectsPart {
  objects: PreparedObject[];
  done: boolean;
}

/** What the thread finishes with; the objects come before, in parts (ObjectsTask). */
export type FinishReply = Omit<FinishResult, 'objects'>;

export type ClassesReply = { seq: number; error: string } | { seq: number; value: AddConfigResult | ObjectsPart | FinishReply | null };

if (parentPort) {
  const port = parentPort;
  const collector = new EnvoyObjectCollector();
  const identities = new IdentityIndex((workerData as ClassesThreadData).identities);
  const decoder = new TextDecoder();
  let connectivity: { computation: ConnectivityComputation; ms: number } | null = null;
  // What the job holds of the objects the generator process now answering sent it, by ref.
  // Connectivity reads whole configs but for their routes: the parsed objects of those types are
  // kept for it (route configurations, the largest, are parsed once, stored and dropped).
  let sent: SentObjects | null = null;
  const sentBy = (process: number) => {
    if (sent?.source !== process)
      sent = new SentObjects(process, new Set(connectivity ? (['listener', 'cluster', 'endpoint'] as const) : []));
    return sent;
  };
  // Reused classes' objects, by stored hash (another namespace than the generator's): text until first read.
  const storedTexts = new Map<string, string>();
  const storedBodies = new Map<string, EnvoyObject>();
  const stored = (hash: string): EnvoyObject => {
    let body = storedBodies.get(hash);
    if (!body) {
      const text = storedTexts.get(hash);
      if (text === undefined) throw new Error(`stored object ${hash} was not sent`);
      body = JSON.parse(text) as EnvoyObject;
      storedBodies.set(hash, body);
      storedTexts.delete(hash);
    }
    return body;
  };
  const addToConnectivity = (key: string, members: ClassMember[], config: ConnectivityConfig) => {
    if (!connectivity) return;
    const started = performance.now();
    connectivity.computation.addClass(key, members, config);
    connectivity.ms += performance.now() - started;
  };

  let objectPartList: PreparedObject[][] | null = null;
  const handle = async (task: ClassesTask): Promise<AddConfigResult | ObjectsPart | FinishReply | null> => {
    if (task.op === 'connectivity') {
      const loaded = (await import(pathToFileURL(task.module).href)) as ConnectivityModule;
      connectivity = { computation: loaded.connectivityComputation(task.input), ms: 0 };
      return null;
    }
    if (task.op === 'add') {
      const read = readGeneratedLine(task.line, sentBy(task.process), decoder);
      const [rep] = task.unit.members;
      const added = addGenerated(collector, read, task.checkIdentity ? { index: identities, rep, members: task.unit.members } : undefined);
      if (connectivity) {
        const unit = added.dependsOnIdentity ? { key: memberClassKey(task.unit.key, rep), members: [rep] } : task.unit;
        addToConnectivity(unit.key, unit.members, {
          listeners: read.list('listeners'),
          clusters: read.list('clusters'),
          endpoints: read.list('endpoints'),
        });
      }
      return added;
    }
    if (task.op === 'storedObjects') {
      for (const [hash, text] of task.texts) if (!storedBodies.has(hash)) storedTexts.set(hash, text);
      return null;
    }
    if (task.op === 'storedClass') {
      const { listeners, clusters, endpoints } = task.config;
      addToConnectivity(task.unit.key, task.unit.members, {
        listeners: listeners.map(stored),
        clusters: clusters.map(stored),
        endpoints: endpoints.map(stored),
      });
      return null;
    }
    if (task.op === 'objects') {
      objectPartList ??= objectParts([...collector.objects.values()], OBJECT_PART);
      return { objects: objectPartList[task.part] ?? [], done: task.part + 1 >= objectPartList.length };
    }
    const value: FinishReply = { nodes: [...collector.nodes.values()] };
    if (connectivity) {
      const started = performance.now();
      const result = connectivity.computation.build();
      connectivity.ms += performance.now() - started;
      value.connectivity = { result, stats: { ...connectivity.computation.stats }, ms: connectivity.ms };
    }
    return value;
  };

  // In order: a task waits for the one before it (importing connectivity's module is asynchronous).
  let queue = Promise.resolve();
  port.on('message', (task: ClassesTask) => {
    queue = queue.then(async () => {
      try {
        port.postMessage({ seq: task.seq, value: await handle(task) } satisfies ClassesReply);
      } catch (error) {
        port.postMessage({ seq: task.seq, error: error instanceof Error ? error.message : String(error) } satisfies ClassesReply);
      }
    });
  });
}
