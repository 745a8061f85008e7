import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { GeneratorError, generatorFailure, type GeneratorErrorCode, type Methods } from './protocol.js';

interface Pending {
  /** the answer's line as bytes, unparsed (a compute job's thread parses it) */
  raw: boolean;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** One generator process: one snapshot, many requests, answered concurrently and matched by id. */
export class GeneratorProcess {
  private static started = 0;
  /** Which process of this service it is: 1, 2, 3, … in the order they were started. */
  readonly serial = ++GeneratorProcess.started;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stderrTail = '';
  private exited: string | null = null;

  /** `niceness`: how much higher the process's nice value is than the service's (it yields the CPU sooner). */
  constructor(binary: string, niceness = 0) {
    this.child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    try {
      if (niceness > 0 && this.child.pid !== undefined) setPriority(this.child.pid, Math.min(19, getPriority() + niceness));
    } catch {
      // Gone already: its exit is reported below.
    }
    this.child.on('error', (err) => this.terminate(`could not run ${binary}: ${err.message}`));
    this.child.on('exit', (code, signal) => this.terminate(`generator exited (${signal ?? `code ${code}`})${this.stderrTail ? `: ${this.stderrTail.trim().split('\n').slice(-3).join(' | ')}` : ''}`));
    this.child.stdin.on('error', () => undefined); // reported through 'exit'
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-4000);
    });
    // Lines split as bytes: a raw answer goes to its caller without being decoded here.
    let parts: Buffer[] = [];
    this.child.stdout.on('data', (chunk: Buffer) => {
      let start = 0;
      for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
        parts.push(chunk.subarray(start, nl));
        this.receive(parts.length === 1 ? parts[0] : Buffer.concat(parts));
        parts = [];
        start = nl + 1;
      }
      if (start < chunk.length) parts.push(chunk.subarray(start));
    });
  }

  get alive(): boolean {
    return this.exited === null;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Resident memory of the process, from /proc; 0 when unknown. */
  rssBytes(): number {
    try {
      const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
      const kb = /VmRSS:\s+(\d+) kB/.exec(status);
      return kb ? Number(kb[1]) * 1024 : 0;
    } catch {
      return 0;
    }
  }

  request<M extends keyof Methods>(method: M, params: Methods[M]['params'], timeoutMs: number): Promise<Methods[M]['result']> {
    return this.send(method, (id) => JSON.stringify({ id, method, params }), timeoutMs, false) as Promise<Methods[M]['result']>;
  }

  /**
   * As request, the params already JSON (`JSON.stringify` of them): written where their JSON was
   * cheaper to make, off the event loop (a snapshot's `load`, megabytes of it).
   */
  requestParamsJson<M extends keyof Methods>(method: M, paramsJson: string, timeoutMs: number): Promise<Methods[M]['result']> {
    // Request's line, JSON.stringify({ id, method, params }), with params' JSON as given.
    const line = (id: number) => `{"id":${id},"method":${JSON.stringify(method)},"params":${paramsJson}}`;
    return this.send(method, line, timeoutMs, false) as Promise<Methods[M]['result']>;
  }

  /**
   * The answer's whole line, `{"id":…,"result":…}`, as bytes of its own (transferable to a
   * thread): for answers of many MiB that the caller parses elsewhere. Errors are rejected as
   * request's are.
   */
  requestRaw<M extends keyof Methods>(method: M, params: Methods[M]['params'], timeoutMs: number): Promise<Uint8Array> {
    return this.send(method, (id) => JSON.stringify({ id, method, params }), timeoutMs, true) as Promise<Uint8Array>;
  }

  private send(method: keyof Methods, line: (id: number) => string, timeoutMs: number, raw: boolean): Promise<unknown> {
    if (this.exited) return Promise.reject(new GeneratorError('EXITED', this.exited));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new GeneratorError('TIMEOUT', `the generator did not answer ${method} within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.pending.set(id, { raw, resolve, reject, timer });
      this.child.stdin.write(line(id) + '\n');
    });
  }

  close() {
    if (this.exited) return;
    this.child.stdin.end();
    this.child.kill('SIGTERM');
  }

  private receive(bytes: Buffer) {
    // The encoder writes `{"id":N,"result":…}` or `{"id":N,"error":…}`, in that order.
    const head = /^\{"id":(\d+),"(result|error)"/.exec(bytes.subarray(0, 40).toString('latin1'));
    const rawPending = head ? this.pending.get(Number(head[1])) : undefined;
    if (head && rawPending?.raw && head[2] === 'result') {
      this.pending.delete(Number(head[1]));
      clearTimeout(rawPending.timer);
      rawPending.resolve(ownBytes(bytes));
      return;
    }
    const line = bytes.toString('utf8');
    let message: { id?: number; result?: unknown; error?: { code: GeneratorErrorCode; message: string } };
    try {
      message = JSON.parse(line) as typeof message;
    } catch {
      return; // not protocol output
    }
    const pending = message.id === undefined ? undefined : this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id!);
    clearTimeout(pending.timer);
    if (message.error) pending.reject(generatorFailure(message.error));
    else pending.resolve(message.result);
  }

  private terminate(reason: string) {
    if (this.exited) return;
    this.exited = reason;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new GeneratorError('EXITED', reason));
      this.pending.delete(id);
    }
  }
}

/** Bytes in an ArrayBuffer of their own (a small Buffer is a slice of Node's shared pool). */
function ownBytes(bytes: Buffer): Uint8Array {
  const { buffer, byteOffset, byteLength } = bytes;
  if (buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength) return bytes;
  return new Uint8Array(bytes);
}
