// The compute job's connectivity (jobs/derived.ts): a builder over the snapshot's workloads, its
// receivers told apart by proxy class, the PeerAuthentication in force on each (istiod's) named in reasons.
import type { Connectivity } from '../model/connectivity.js';
import type { GeneratedConfig } from '../model/proxy.js';
import type { GeneratorInput, Workload } from '../model/snapshot.js';
import type { ConfigRef } from '../model/config-ref.js';
import { ConnectivityBuilder } from './build.js';

export function connectivityComputation(input: {
  workloads: Workload[];
  generatorInput: GeneratorInput;
  classes: { key: string; members: { namespace: string; name: string }[] }[];
  peerAuthentications: Map<string, ConfigRef | null>;
}): {
  addClass(key: string, members: { namespace: string; name: string }[], config: GeneratedConfig): void;
  build(): Connectivity;
  readonly stats: { senderClasses: number; evaluations: number };
} {
  const key = (w: { namespace: string; name: string }) => `${w.namespace}/${w.name}`;
  const classOfWorkload = new Map<string, string>();
  for (const c of input.classes) for (const m of c.members) classOfWorkload.set(key(m), c.key);
  const builder = new ConnectivityBuilder(
    input.workloads,
    input.generatorInput,
    (w) => classOfWorkload.get(key(w)) ?? null,
    (w) => input.peerAuthentications.get(classOfWorkload.get(key(w)) ?? '') ?? null,
  );
  return {
    addClass: (k, members, config) => builder.addClass(k, members, config as unknown as Parameters<ConnectivityBuilder['addClass']>[2]),
    build: () => builder.build(),
    stats: builder.stats,
  };
}
