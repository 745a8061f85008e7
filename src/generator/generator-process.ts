import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { GeneratorError, generatorFailure, type GeneratorErrorCode, type Methods } from './protocol.js';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** One generator process: one snapshot, many requests, answered concurrently and matched by id. */
export class GeneratorProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stderrTail = '';
  private exited: string | null = null;

  constructor(binary: string) {
    this.child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.on('error', (err) => this.terminate(`could not run ${binary}: ${err.message}`));
    this.child.on('exit', (code, signal) => this.terminate(`generator exited (${signal ?? `code ${code}`})${this.stderrTail ? `: ${this.stderrTail.trim().split('\n').slice(-3).join(' | ')}` : ''}`));
    this.child.stdin.on('error', () => undefined); // reported through 'exit'
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-4000);
    });
    const lines = createInterface({ input: this.child.stdout, crlfDelay: Infinity });
    lines.on('line', (line) => this.receive(line));
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
    if (this.exited) return Promise.reject(new GeneratorError('EXITED', this.exited));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new GeneratorError('TIMEOUT', `the generator did not answer ${method} within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.child.stdin.write(JSON.stringify({ id, method, params }) + '\n');
    });
  }

  close() {
    if (this.exited) return;
    this.child.stdin.end();
    this.child.kill('SIGTERM');
  }

  private receive(line: string) {
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
