// The compute job's connectivity (jobs/derived.ts), run on the job's thread: a builder over the
// snapshot's workloads, its receivers told apart by proxy class, the PeerAuthentication in force on
// each (istiod's) named in reasons.
import type { ConnectivityModule } from '../jobs/derived.js';
import type { ClusterLoadAssignment } from '../envoy/endpoints.js';
import type { EnvoyConfig } from '../routing/resolve.js';
import { ConnectivityBuilder } from './build.js';

export const connectivityComputation: ConnectivityModule['connectivityComputation'] = (input) => {
  const key = (w: { namespace: string; name: string }) => `${w.namespace}/${w.name}`;
  const classOfWorkload = new Map<string, string>();
  for (const c of input.classes) for (const m of c.workloads) classOfWorkload.set(key(m), c.classKey);
  const builder = new ConnectivityBuilder(
    input.workloads,
    input.kubeProxyInput,
    (w) => classOfWorkload.get(key(w)) ?? null,
    (w) => input.peerAuthentications.get(classOfWorkload.get(key(w)) ?? '') ?? null,
    input.trustDomain,
  );
  return {
    addClass: (k, members, config) =>
      builder.addClass(
        k,
        members,
        config as unknown as Pick<EnvoyConfig, 'listeners' | 'clusters'> & { endpoints?: ClusterLoadAssignment[] },
      ),
    build: () => builder.build(),
    stats: builder.stats,
  };
};
