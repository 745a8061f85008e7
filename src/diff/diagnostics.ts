// `istioctl analyze` messages introduced and resolved by a change. Pure.
import type { AnalyzerMessage } from '../model/diagnostics.js';
import type { DiagnosticsDiff } from './model.js';
import { compareStrings } from '../model/compare.js';

const LEVEL_RANK: Record<string, number> = { error: 0, warning: 1, info: 2 };

export function levelRank(level: string): number {
  return LEVEL_RANK[level.toLowerCase()] ?? 3;
}

function key(m: AnalyzerMessage): string {
  return [m.code, m.kind ?? '', m.namespace ?? '', m.name ?? '', m.message].join('\u0000');
}

/** Errors first, then warnings, then info; within a level by code, resource and message. */
export function compareDiagnostics(a: AnalyzerMessage, b: AnalyzerMessage): number {
  return (
    levelRank(a.level) - levelRank(b.level) ||
    compareStrings(a.code, b.code) ||
    compareStrings(a.namespace ?? '', b.namespace ?? '') ||
    compareStrings(a.kind ?? '', b.kind ?? '') ||
    compareStrings(a.name ?? '', b.name ?? '') ||
    compareStrings(a.message, b.message)
  );
}

export function diffDiagnostics(base: readonly AnalyzerMessage[], head: readonly AnalyzerMessage[]): DiagnosticsDiff {
  const before = new Set(base.map(key));
  const after = new Set(head.map(key));
  const unique = (list: readonly AnalyzerMessage[]) => [...new Map(list.map((m) => [key(m), m])).values()];
  return {
    introduced: unique(head.filter((m) => !before.has(key(m)))).sort(compareDiagnostics),
    resolved: unique(base.filter((m) => !after.has(key(m)))).sort(compareDiagnostics),
  };
}
