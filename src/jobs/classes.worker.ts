// The thread of one compute job (node:worker_threads): parses each class's generated config,
// hashes and stores its objects and tree (EnvoyObjectCollector), and checks whether it names a
// member's identity. These are the job's CPU-heavy steps (seconds per class on a large mesh), kept
// off the event loop that serves the API.
import { parentPort } from 'node:worker_threads';
import { EnvoyObjectCollector, type PreparedObject, type TreeNode } from '../database/envoy-tree.js';
import { addGenerated, type AddConfigResult, type ClassMember } from './proxy-classes.js';

/** A generated config to add: the generator's answer line, and, to check identity, the class. */
export interface AddConfigTask {
  op: 'add';
  seq: number;
  /** the generator's `{"id":…,"result":<GeneratedConfig>}` line as UTF-8 */
  line: Uint8Array;
  /** when given (a class's representative), whether the config names a member's identity is checked */
  identity?: { rep: ClassMember; members: ClassMember[] };
}

export interface FinishTask {
  op: 'finish';
  seq: number;
}

export type ClassesTask = AddConfigTask | FinishTask;

export interface FinishResult {
  objects: PreparedObject[];
  nodes: TreeNode[];
}

export type { AddConfigResult };

export type ClassesReply = { seq: number; error: string } | { seq: number; value: AddConfigResult | FinishResult };

if (parentPort) {
  const port = parentPort;
  const collector = new EnvoyObjectCollector();
  const decoder = new TextDecoder();
  port.on('message', (task: ClassesTask) => {
    try {
      if (task.op === 'add') {
        port.postMessage({ seq: task.seq, value: addGenerated(collector, task, decoder) } satisfies ClassesReply);
      } else {
        const value: FinishResult = { objects: [...collector.objects.values()], nodes: [...collector.nodes.values()] };
        port.postMessage({ seq: task.seq, value } satisfies ClassesReply);
      }
    } catch (error) {
      port.postMessage({ seq: task.seq, error: error instanceof Error ? error.message : String(error) } satisfies ClassesReply);
    }
  });
}
