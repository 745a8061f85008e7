// GraphQL fields read from the stored proxy config (the compute job's rows): Snapshot.proxyStatus
// and Workload.proxyConfig, the latter batched per request (one set of queries however many
// workloads a query asks about).
import { Context, Field, Int, ObjectType, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import DataLoader from 'dataloader';
import { ProxyConfigStore, workloadKey } from '../database/proxy-config.store.js';
import type { GeneratedConfig } from '../model/proxy.js';
import { ProxyType } from '../graphql/enums.js';
import { Snapshot } from '../snapshots/graphql/snapshot.type.js';
import { Workload } from '../snapshots/graphql/workload.type.js';
import { ProxyConfig } from './proxy-config.types.js';
import { FIELD_COST } from '../graphql/limits.js';

@ObjectType('ProxyStatus', { description: 'One proxy of a snapshot, like a row of `istioctl proxy-status`' })
export class ProxyStatus {
  @Field() name: string;
  @Field() namespace: string;
  @Field(() => ProxyType) proxyType: ProxyType;
  @Field(() => Int) listeners: number;
  @Field(() => Int) routes: number;
  @Field(() => Int) clusters: number;
  @Field(() => Int) endpoints: number;
  @Field({ description: "the hash of the proxy's whole config: same hash, same config" }) configHash: string;
}

@Resolver(() => Snapshot)
export class SnapshotProxyStatusResolver {
  constructor(private readonly store: ProxyConfigStore) {}

  @ResolveField(() => [ProxyStatus], { description: 'like `istioctl proxy-status`, one row per proxy (empty until READY)' })
  async proxyStatus(@Parent() snapshot: Snapshot): Promise<ProxyStatus[]> {
    const rows = await this.store.proxyStatus(snapshot.id);
    return rows.map((r) => Object.assign(new ProxyStatus(), { ...r, proxyType: r.proxyType as ProxyType }));
  }
}

type ConfigLoader = DataLoader<{ snapshotId: string; namespace: string; name: string }, GeneratedConfig | null, string>;
// One loader per GraphQL request: the context object lives exactly as long as the request.
const loaders = new WeakMap<object, ConfigLoader>();

@Resolver(() => Workload)
export class WorkloadProxyConfigResolver {
  constructor(private readonly store: ProxyConfigStore) {}

  @ResolveField(() => ProxyConfig, {
    nullable: true,
    description: 'the stored config istiod would push to it; null without a proxy',
    complexity: FIELD_COST.proxyWalk,
  })
  async proxyConfig(@Parent() workload: Workload, @Context() context: object): Promise<ProxyConfig | null> {
    const generated = await this.loader(context).load({
      snapshotId: workload.snapshotId,
      namespace: workload.namespace,
      name: workload.name,
    });
    return generated ? { snapshotId: workload.snapshotId, generated } : null;
  }

  private loader(context: object): ConfigLoader {
    let loader = loaders.get(context);
    if (!loader) {
      loader = new DataLoader(
        async (keys) => {
          const bySnapshot = new Map<string, { namespace: string; name: string }[]>();
          for (const k of keys) {
            let list = bySnapshot.get(k.snapshotId);
            if (!list) bySnapshot.set(k.snapshotId, (list = []));
            list.push(k);
          }
          const found = new Map<string, GeneratedConfig>();
          for (const [snapshotId, refs] of bySnapshot) {
            for (const [key, config] of await this.store.configsOf(snapshotId, refs)) found.set(`${snapshotId}/${key}`, config);
          }
          return keys.map((k) => found.get(`${k.snapshotId}/${workloadKey(k)}`) ?? null);
        },
        { cacheKeyFn: (k) => `${k.snapshotId}/${k.namespace}/${k.name}` },
      );
      loaders.set(context, loader);
    }
    return loader;
  }
}
