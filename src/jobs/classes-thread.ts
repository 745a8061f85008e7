import { Worker } from 'node:worker_threads';
import { compiledFile } from '../common/compiled.js';
import type { RawAnswer } from '../generator/generator.service.js';
import type { ClassMember, Identity } from './proxy-classes.js';
import type { PreparedObject } from '../database/envoy-tree.js';
import type {
  AddConfigResult,
  ClassesReply,
  ClassesTask,
  ClassesThreadData,
  FinishReply,
  FinishResult,
  ObjectsPart,
} from './classes.worker.js';
import type { ConnectivityConfig, ConnectivityInput } from './derived.js';

/** The size of an ObjectsTask's part (objectParts), whose structured clone takes the event loop a few ms. */
export const OBJECT_PART = { bytes: 4 * 1024 * 1024, objects: 1000 };

/**
 * One compute job's thread (classes.worker.ts): the generated configs go to it as the generator's
 * bytes, transferred, and come back as hashes; at the end, the job's objects and tree nodes, each
 * once, and its connectivity. Stateful (one collector per job), so a thread of its own rather than
 * a pool's.
 */
export class ClassesThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private seq = 0;
  private failed: Error | null = null;

  /** `workloads`: every workload of the job's classes, whose identities the thread's identity check looks for. */
  constructor(workloads: Identity[]) {
    const identities: Identity[] = workloads.map((w) => ({ name: w.name, proxy: { id: w.proxy.id, ips: w.proxy.ips } }));
    this.worker = new Worker(compiledFile(new URL('./classes.worker.js', import.meta.url)), {
      workerData: { identities } satisfies ClassesThreadData,
    });
    this.worker.on('message', (reply: ClassesReply) => {
      const p = this.pending.get(reply.seq);
      if (!p) return;
      this.pending.delete(reply.seq);
      if ('error' in reply) p.reject(new Error(`compute thread: ${reply.error}`));
      else p.resolve(reply.value);
    });
    const fail = (error: Error) => {
      this.failed ??= error;
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`compute thread exited (code ${code})`)));
  }

  /** Computes connectivity too (jobs/derived.ts): `module`, its URL, is imported by the thread. */
  connectivity(module: URL, input: ConnectivityInput): Promise<void> {
    return this.call({ op: 'connectivity', seq: ++this.seq, module: compiledFile(module), input }, []) as Promise<void>;
  }

  /**
   * Adds a generated config (the generator's answer, in the order the generator wrote it) of a
   * class (members[0]'s config); `checkIdentity`: whether to check that it names no member's identity.
   */
  add(answer: RawAnswer, unit: { key: string; members: ClassMember[] }, checkIdentity: boolean): Promise<AddConfigResult> {
    const { line, process } = answer;
    const transfer = line.byteOffset === 0 && line.byteLength === line.buffer.byteLength ? [line.buffer as ArrayBuffer] : [];
    return this.call({ op: 'add', seq: ++this.seq, line, process, unit, checkIdentity }, transfer) as Promise<AddConfigResult>;
  }

  /** Stored objects' JSON text by stored hash, for storedClass: each sent once per job. */
  storedObjects(texts: [string, string][]): Promise<void> {
    return this.call({ op: 'storedObjects', seq: ++this.seq, texts }, []) as Promise<void>;
  }

  /** A reused class, for connectivity: its listeners', clusters' and endpoints' stored hashes, in list order. */
  storedClass(unit: { key: string; members: ClassMember[] }, config: Record<keyof ConnectivityConfig, string[]>): Promise<void> {
    return this.call({ op: 'storedClass', seq: ++this.seq, unit, config }, []) as Promise<void>;
  }

  /**
   * Every object and tree node added, each once; the connectivity, when asked for. The objects
   * come in parts, a message each: the event loop serves what waits between two.
   */
  async finish(): Promise<FinishResult> {
    const objects: PreparedObject[] = [];
    for (let part = 0, done = false; !done; part++) {
      const answer = (await this.call({ op: 'objects', seq: ++this.seq, part }, [])) as ObjectsPart;
      objects.push(...answer.objects);
      done = answer.done;
    }
    const rest = (await this.call({ op: 'finish', seq: ++this.seq }, [])) as FinishReply;
    return { objects, ...rest };
  }

  async close() {
    await this.worker.terminate();
  }

  private call(task: ClassesTask, transfer: ArrayBuffer[]): Promise<unknown> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.pending.set(task.seq, { resolve, reject });
      this.worker.postMessage(task, transfer);
    });
  }
}
