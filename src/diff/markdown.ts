// The PR comment: a summary line, a table of affected workloads and routes, diagnostics introduced
// (errors first), <details> per workload (workloads with the very same change share one: the
// proxy changes come merged so), the resources; deterministic, capped in length with a note of
// what was cut. Pure.
import type { AnalyzerMessage } from '../model/diagnostics.js';
import { briefJson } from './json-diff.js';
import type { DiffSummary, EnvoyObjectChange, ProxyConfigChange, ResourceChange, SideInfo, WorkloadRef } from './model.js';
import { workloadName } from './proxy-class.js';
import type { ConnectionChange } from './connectivity.js';

export interface MarkdownInput {
  base: SideInfo;
  head: SideInfo;
  summary: DiffSummary;
  resources: ResourceChange[];
  noiseOnly: { kind: string; namespace: string | null; name: string }[];
  proxies: ProxyConfigChange[];
  introduced: AnalyzerMessage[];
  resolved: AnalyzerMessage[];
  /** Who can talk to whom: the changes, closed connections and lost mTLS first. */
  connectivity?: ConnectionChange[];
  istioVersion?: string | null;
}

export interface MarkdownOptions {
  /** GitHub refuses comments over 65,536 characters. */
  maxLength?: number;
}

export const DEFAULT_MAX_LENGTH = 60_000;
const TABLE_ROWS = 40;
const DIAGNOSTICS_LISTED = 40;
const CONNECTIONS_LISTED = 60;
const FIELDS_PER_OBJECT = 12;
const OBJECTS_PER_WORKLOAD = 40;
const WORKLOADS_NAMED = 3;

const TYPE_NAMES: Record<string, string> = {
  listeners: 'listener',
  routes: 'route configuration',
  clusters: 'cluster',
  endpoints: 'endpoints of',
};

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Inline code, safe for backticks inside. */
function code(text: string): string {
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
}

/** A table cell: no pipes or newlines left to break the row. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function proxyKind(type: string): string {
  return type === 'ROUTER' ? 'gateway' : 'sidecar';
}

function workloadsText(ws: readonly WorkloadRef[], limit = WORKLOADS_NAMED): string {
  const named = ws.slice(0, limit).map(workloadName);
  return ws.length > limit ? `${named.join(', ')} and ${ws.length - limit} more` : named.join(', ');
}

export function summaryLine(s: DiffSummary): string {
  const res: string[] = [];
  if (s.resourcesAdded) res.push(`${s.resourcesAdded} added`);
  if (s.resourcesRemoved) res.push(`${s.resourcesRemoved} removed`);
  if (s.resourcesChanged) res.push(`${s.resourcesChanged} changed`);
  const resourceCount = s.resourcesAdded + s.resourcesRemoved + s.resourcesChanged;
  const resources = resourceCount
    ? `${plural(resourceCount, 'resource')} ${res.length === 1 ? res[0].replace(/^\d+ /, '') : `changed (${res.join(', ')})`}`
    : 'no resource changed';
  if (!s.effectiveChange) {
    const noise = s.resourcesNoiseOnly
      ? `; ${plural(s.resourcesNoiseOnly, 'resource')} differed only in fields the API server writes (status, resourceVersion, …), ignored`
      : '';
    if (resourceCount === 0) return `**No change.** The two snapshots have the same resources${noise}.`;
    return `**No effective change:** ${resources}, but no proxy's Envoy config and no diagnostic changed${noise}.`;
  }
  const parts: string[] = [];
  if (s.workloadsAffected)
    parts.push(
      `changes the Envoy config of ${plural(s.workloadsAffected, 'workload')} (${plural(s.routingChanges, 'distinct routing change')})`,
    );
  if (s.diagnosticsIntroduced)
    parts.push(
      `introduces ${plural(s.diagnosticsIntroduced, 'diagnostic')}${s.errorsIntroduced ? ` (${plural(s.errorsIntroduced, 'error')})` : ''}`,
    );
  if (s.diagnosticsResolved) parts.push(`resolves ${plural(s.diagnosticsResolved, 'diagnostic')}`);
  if (s.connectionsChanged) {
    const worst = [
      s.connectionsClosed && `${s.connectionsClosed} closed`,
      s.mtlsLost && `${plural(s.mtlsLost, 'connection')} losing mTLS`,
    ].filter(Boolean);
    parts.push(
      `changes who can talk to whom (${plural(s.connectionsChanged, 'connection')}${worst.length ? `: ${worst.join(', ')}` : ''})`,
    );
  }
  const joined = parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}` : parts[0];
  return `**This change ${joined}.** ${capital(resources)}.`;
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function levelIcon(level: string): string {
  const l = level.toLowerCase();
  return l === 'error' ? '🔴 **Error**' : l === 'warning' ? '🟠 **Warning**' : 'ℹ️ Info';
}

function diagnosticLine(m: AnalyzerMessage): string {
  const where = m.kind && m.name ? ` ${m.kind} ${m.namespace ? `${m.namespace}/` : ''}${m.name}` : '';
  return `- ${levelIcon(m.level)} ${code(m.code)}${where}: ${m.message}`;
}

/**
 * The table's first `limit` rows and how many there are in all: only the rows shown are written
 * (a big mesh's change has thousands of sentences, and the comment shows 40).
 */
function tableRows(groups: readonly ProxyConfigChange[], limit: number): { rows: string[]; total: number } {
  const rows: string[] = [];
  let total = 0;
  for (const g of groups) {
    const listed = g.routing.filter((r) => r.kind !== 'CLUSTER' || g.routing.length <= 6);
    const start = total;
    total += Math.max(listed.length, 1);
    if (start >= limit) continue;
    const who = cell(workloadsText(g.workloads));
    const kind = proxyKind(g.proxyType);
    if (listed.length === 0) {
      rows.push(`| ${who} | ${kind} | | Envoy config changed (${plural(g.objects.length, 'object')}), no routing effect found |`);
      continue;
    }
    for (const r of listed.slice(0, limit - start)) rows.push(`| ${who} | ${kind} | ${cell(code(r.destination))} | ${cell(r.sentence)} |`);
  }
  return { rows, total };
}

function objectLines(objects: readonly EnvoyObjectChange[]): string[] {
  const lines: string[] = [];
  for (const o of objects.slice(0, OBJECTS_PER_WORKLOAD)) {
    const what = `${TYPE_NAMES[o.type] ?? o.type} ${code(o.name)}`;
    if (o.change !== 'CHANGED') {
      lines.push(`- ${o.change === 'ADDED' ? 'added' : 'removed'}: ${what}`);
      continue;
    }
    lines.push(`- changed: ${what}`);
    for (const f of o.fields.slice(0, FIELDS_PER_OBJECT)) lines.push(`  - ${fieldLine(f)}`);
    const more = o.fields.length - FIELDS_PER_OBJECT + (o.truncated ? 1 : 0);
    if (more > 0) lines.push(`  - … ${o.truncated ? 'more' : more} field changes not shown`);
  }
  if (objects.length > OBJECTS_PER_WORKLOAD) lines.push(`- … and ${objects.length - OBJECTS_PER_WORKLOAD} more objects`);
  return lines;
}

function fieldLine(f: { path: string; change: string; before?: unknown; after?: unknown }): string {
  if (f.change === 'ADDED') return `${code(f.path)}: added ${code(briefJson(f.after))}`;
  if (f.change === 'REMOVED') return `${code(f.path)}: removed (was ${code(briefJson(f.before))})`;
  return `${code(f.path)}: ${code(briefJson(f.before))} → ${code(briefJson(f.after))}`;
}

function groupBlock(g: ProxyConfigChange): string {
  const routingCount = g.routing.length;
  const objectCount = g.objects.length;
  const title = `<b>${workloadsText(g.workloads, 6)}</b> (${proxyKind(g.proxyType)}${g.workloads.length > 1 ? `, ${g.workloads.length} workloads with this same change` : ''}): ${
    g.change === 'CHANGED'
      ? `${plural(routingCount, 'routing change')}, ${plural(objectCount, 'Envoy object')} changed`
      : g.change === 'ADDED'
        ? 'new proxy'
        : 'proxy removed'
  }`;
  const lines = [`<details><summary>${title}</summary>`, ''];
  if (g.workloads.length > 6) lines.push(`Workloads: ${g.workloads.map(workloadName).join(', ')}`, '');
  if (routingCount) {
    lines.push('**Routing**', '');
    for (const r of g.routing) lines.push(`- ${r.sentence}`);
    lines.push('');
  }
  if (objectCount) {
    lines.push('**Envoy objects**', '');
    lines.push(...objectLines(g.objects));
    lines.push('');
  }
  lines.push('</details>', '');
  return lines.join('\n');
}

function resourcesBlock(resources: readonly ResourceChange[], noiseOnly: MarkdownInput['noiseOnly']): string {
  if (resources.length === 0 && noiseOnly.length === 0) return '';
  const lines = [
    `<details><summary>Resources: ${plural(resources.length, 'change')}${noiseOnly.length ? `, ${noiseOnly.length} noise-only (ignored)` : ''}</summary>`,
    '',
  ];
  for (const r of resources) {
    const ref = `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
    lines.push(`- ${r.change.toLowerCase()}: ${code(ref)}`);
    for (const f of r.fields.slice(0, FIELDS_PER_OBJECT)) lines.push(`  - ${fieldLine(f)}`);
    if (r.fields.length > FIELDS_PER_OBJECT || r.truncated)
      lines.push(`  - … ${r.truncated ? 'more' : r.fields.length - FIELDS_PER_OBJECT} field changes not shown`);
  }
  if (noiseOnly.length)
    lines.push(
      `- noise only (status, resourceVersion, last-applied, …): ${noiseOnly.map((n) => code(`${n.kind} ${n.namespace ? `${n.namespace}/` : ''}${n.name}`)).join(', ')}`,
    );
  lines.push('', '</details>', '');
  return lines.join('\n');
}

export function renderMarkdown(input: MarkdownInput, options: MarkdownOptions = {}): string {
  const max = options.maxLength ?? DEFAULT_MAX_LENGTH;
  const groups = input.proxies;
  const label = (s: SideInfo) => s.name ?? s.id ?? '?';
  const footer = `<sub>meshlens${input.istioVersion ? ` · Istio ${input.istioVersion}` : ''} · ${cell(label(input.base))} → ${cell(label(input.head))}</sub>\n`;
  const cut: string[] = [];
  const parts: string[] = ['### meshlens: what this change does', '', summaryLine(input.summary), ''];

  const { rows, total } = tableRows(groups, TABLE_ROWS);
  if (total) {
    parts.push('| workload | proxy | destination | change |', '|---|---|---|---|', ...rows, '');
    if (total > TABLE_ROWS) cut.push(`${total - TABLE_ROWS} more table rows`);
  }
  const diag = (title: string, list: readonly AnalyzerMessage[], icon?: string) => {
    if (!list.length) return;
    parts.push(`#### ${title}`, '');
    for (const m of list.slice(0, DIAGNOSTICS_LISTED))
      parts.push(
        icon
          ? `- ${icon} ${code(m.code)}${m.kind && m.name ? ` ${m.kind} ${m.namespace ? `${m.namespace}/` : ''}${m.name}` : ''}: ${m.message}`
          : diagnosticLine(m),
      );
    if (list.length > DIAGNOSTICS_LISTED) cut.push(`${list.length - DIAGNOSTICS_LISTED} more diagnostics ${title.toLowerCase()}`);
    parts.push('');
  };
  const connectivity = input.connectivity ?? [];
  if (connectivity.length) {
    parts.push('#### Who can talk to whom', '');
    const icon: Record<string, string> = { CLOSED: '⛔', MTLS_LOST: '🔓', NARROWED: '↘️', OPENED: '✅', WIDENED: '↗️', MTLS_GAINED: '🔒' };
    for (const c of connectivity.slice(0, CONNECTIONS_LISTED)) parts.push(`- ${icon[c.change] ?? ''} ${c.sentence}`);
    if (connectivity.length > CONNECTIONS_LISTED) cut.push(`${connectivity.length - CONNECTIONS_LISTED} more connectivity changes`);
    parts.push('');
  }
  diag('Diagnostics introduced', input.introduced);
  diag('Diagnostics resolved', input.resolved, '✅');

  let text = parts.join('\n');
  const reserve = 400 + footer.length;
  // Blocks written only until the first that does not fit: past it, only their names are needed
  // (a big change's blocks list thousands of workloads and sentences, and few fit).
  const optional: { block: () => string; what: string }[] = [];
  if (groups.length) optional.push({ block: () => '#### Per workload\n', what: '' });
  for (const g of groups) optional.push({ block: () => groupBlock(g), what: `details of ${workloadsText(g.workloads, 1)}` });
  const res = resourcesBlock(input.resources, input.noiseOnly);
  if (res) optional.push({ block: () => `#### Resources\n\n${res}`, what: 'the resource list' });
  let skipping = false;
  for (const { block, what } of optional) {
    if (!skipping) {
      const written = block();
      if (text.length + written.length + 1 <= max - reserve) {
        text += `\n${written}`;
        continue;
      }
      skipping = true;
    }
    if (what) cut.push(what);
  }
  if (text.length > max - reserve) text = `${text.slice(0, Math.max(0, max - reserve - 2))}…\n`;
  if (cut.length) {
    const shown = cut.slice(0, 3).join(', ');
    text += `\n> ✂️ Cut to stay under ${max.toLocaleString('en-US')} characters: ${shown}${cut.length > 3 ? ` and ${cut.length - 3} more sections` : ''}. The full diff: \`meshlens diff --format json\` or \`GET /api/v1/snapshots/:base/diff/:head\`.\n`;
  }
  return `${text}\n${footer}`;
}
