// The thread of one compute job (node:worker_threads): parses each class's generated config,
// hashes and stores its objects and tree (EnvoyObjectCollector), checks whether it names a
// member's identity, and reads it for connectivity (jobs/derived.ts), which it builds at the end.
// These are the job's CPU-heavy steps (seconds per class on a large mesh), kept off the event loop
// that serves the API: only hashes and the job's results cross back.
import { pathToFileURL } from 'node:url';
import { parentPort } from 'node:worker_threads';
import { EnvoyObjectCollector, type PreparedObject, type TreeNode } from '../database/envoy-tree.js';
import type { Connectivity } from '../model/connectivity.js';
import type { EnvoyObject } from '../model/proxy.js';
import type { ConnectivityComputation, ConnectivityInput, ConnectivityModule, ConnectivityStats } from './derived.js';
import { addGenerated, memberClassKey, readGeneratedLine, type AddConfigResult, type ClassMember } from './proxy-classes.js';

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
  /** the class: its key and members, the first the one the config was generated for */
  unit: { key: string; members: ClassMember[] };
  /**
   * whether to check if the config names a member's identity (see dependsOnIdentity): when it
   * does, it is the first member's alone, as a class of its own (memberClassKey)
   */
  checkIdentity: boolean;
}

export interface FinishTask {
  op: 'finish';
  seq: number;
}

export type ClassesTask = ConnectivityTask | AddConfigTask | FinishTask;

export interface FinishResult {
  objects: PreparedObject[];
  nodes: TreeNode[];
  /** when asked for: the snapshot's connectivity, and the thread's time on it (reading each config, then evaluating), ms */
  connectivity?: { result: Connectivity; stats: ConnectivityStats; ms: number };
}

export type { AddConfigResult };

export type ClassesReply = { seq: number; error: string } | { seq: number; value: AddConfigResult | FinishResult | null };

if (parentPort) {
  const port = parentPort;
  const collector = new EnvoyObjectCollector();
  const decoder = new TextDecoder();
  let connectivity: { computation: ConnectivityComputation; ms: number } | null = null;
  // Connectivity reads whole configs: the job's parsed objects by the generator's hash, kept for it.
  const bodies = new Map<string, EnvoyObject>();

  const handle = async (task: ClassesTask): Promise<AddConfigResult | FinishResult | null> => {
    if (task.op === 'connectivity') {
      const loaded = (await import(pathToFileURL(task.module).href)) as ConnectivityModule;
      connectivity = { computation: loaded.connectivityComputation(task.input), ms: 0 };
      return null;
    }
    if (task.op === 'add') {
      const read = readGeneratedLine(task.line, decoder, connectivity ? bodies : undefined);
      const [rep] = task.unit.members;
      const added = addGenerated(collector, read, task.checkIdentity ? { rep, members: task.unit.members } : undefined);
      if (connectivity) {
        const unit = added.dependsOnIdentity ? { key: memberClassKey(task.unit.key, rep), members: [rep] } : task.unit;
        const config = { listeners: read.list('listeners'), clusters: read.list('clusters'), endpoints: read.list('endpoints') };
        const started = performance.now();
        connectivity.computation.addClass(unit.key, unit.members, config);
        connectivity.ms += performance.now() - started;
      }
      return added;
    }
    const value: FinishResult = { objects: [...collector.objects.values()], nodes: [...collector.nodes.values()] };
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
