import type { LoggerService } from '@nestjs/common';
import type { LogLevel } from '../config/config.js';
import { requestContext } from './request-context.js';

const SEVERITY: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
// Nest's start-up chatter (one line per module and route) is debug detail, not operational news.
const BOOT_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'GraphQLModule', 'NestApplication']);

/**
 * One JSON object per line on stdout, so log shippers need no parsing rules. Lines written while
 * a request is served carry its `requestId`.
 */
export class JsonLogger implements LoggerService {
  constructor(private readonly minimum: LogLevel = 'info') {}

  log(message: unknown, ...rest: unknown[]) {
    this.write(BOOT_CONTEXTS.has(rest.at(-1) as string) ? 'debug' : 'info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.write('debug', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]) {
    this.write('error', message, rest);
  }

  /** Structured event with fields of its own (access log, job events). */
  event(level: LogLevel, message: string, fields: Record<string, unknown>) {
    if (SEVERITY[level] < SEVERITY[this.minimum]) return;
    this.emit({ level, message, ...fields });
  }

  private write(level: LogLevel, message: unknown, rest: unknown[]) {
    if (SEVERITY[level] < SEVERITY[this.minimum]) return;
    // Nest passes the context (the class name) last; for errors, the stack comes before it.
    const params = [...rest];
    const context = typeof params.at(-1) === 'string' ? (params.pop() as string) : undefined;
    const entry: Record<string, unknown> = { level, message: text(message) };
    if (context) entry.context = context;
    if (message instanceof Error && message.stack) entry.stack = message.stack;
    else if (level === 'error' && typeof params[0] === 'string') entry.stack = params.shift();
    if (params.length > 0) entry.details = params.map(text);
    this.emit(entry);
  }

  private emit(entry: Record<string, unknown>) {
    const requestId = requestContext.getStore()?.requestId;
    const line = { time: new Date().toISOString(), ...entry, ...(requestId ? { requestId } : {}) };
    process.stdout.write(JSON.stringify(line) + '\n');
  }
}

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Error) return value.message;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/**
 * Node prints process warnings (a library's process.emitWarning, deprecations) as plain text
 * on stderr; they become log lines like any other, so the log stays JSON whatever a library says.
 */
export function captureProcessWarnings(logger: JsonLogger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => logger.event('warn', warning.message, { context: 'process', warning: warning.name }));
}
