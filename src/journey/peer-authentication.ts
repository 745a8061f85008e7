// Which PeerAuthentication is in force for a workload, to name it in the journey. Provenance only:
// the mode itself is read from the inbound filter chains istiod generated (routing/transport.ts).
// Istio's precedence: a policy of the workload's namespace whose selector matches it, then the
// namespace's policy without a selector, then the root namespace's; the oldest first among equals.
import type { ConfigRef } from '../model/config-ref.js';

export interface PeerAuthenticationObject {
  metadata?: { name?: string; namespace?: string; creationTimestamp?: string };
  spec?: { selector?: { matchLabels?: Record<string, string> } };
}

export function peerAuthenticationFor(
  policies: PeerAuthenticationObject[],
  rootNamespace: string,
  namespace: string,
  labels: Record<string, string>,
): ConfigRef | null {
  const oldestFirst = [...policies].sort((a, b) => {
    const ta = a.metadata?.creationTimestamp ?? '';
    const tb = b.metadata?.creationTimestamp ?? '';
    if (ta !== tb) return ta < tb ? -1 : 1;
    const na = a.metadata?.name ?? '';
    const nb = b.metadata?.name ?? '';
    return na < nb ? -1 : na > nb ? 1 : 0;
  });
  const selector = (p: PeerAuthenticationObject) => p.spec?.selector?.matchLabels ?? {};
  const inNamespace = (ns: string) => oldestFirst.filter((p) => p.metadata?.namespace === ns);
  const chosen =
    inNamespace(namespace).find(
      (p) => Object.keys(selector(p)).length > 0 && Object.entries(selector(p)).every(([k, v]) => labels[k] === v),
    ) ??
    inNamespace(namespace).find((p) => Object.keys(selector(p)).length === 0) ??
    inNamespace(rootNamespace).find((p) => Object.keys(selector(p)).length === 0);
  return chosen
    ? { kind: 'PeerAuthentication', namespace: chosen.metadata?.namespace ?? namespace, name: chosen.metadata?.name ?? '' }
    : null;
}
