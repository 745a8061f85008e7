// A proxy's config as Envoy's admin `/config_dump?include_eds` reports it: the one config dump of
// meshlens, built by the generator (generator/internal/protocol/configdump.go, the sections of
// envoy.admin.v3.ConfigDump in the order Istio's pilot/pkg/xds/debug.go builds them). REST
// `config_dump`, GraphQL `configDump` and `proxy-config all -o json` pass its text through.
import type { EnvoyObject } from '../model/proxy.js';

/** An Envoy resource with its type URL. */
export type TypedResource = EnvoyObject & { '@type': string };

export interface BootstrapConfigDump {
  '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump';
  bootstrap: EnvoyObject;
  lastUpdated: string;
}

export interface ClustersConfigDump {
  '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump';
  versionInfo: string;
  staticClusters: { cluster: TypedResource; lastUpdated: string }[];
  dynamicActiveClusters: { versionInfo: string; cluster: TypedResource; lastUpdated: string }[];
}

export interface EndpointsConfigDump {
  '@type': 'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump';
  staticEndpointConfigs: { endpointConfig: TypedResource; lastUpdated: string }[];
  dynamicEndpointConfigs: { versionInfo: string; endpointConfig: TypedResource; lastUpdated: string }[];
}

export interface ListenersConfigDump {
  '@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump';
  versionInfo: string;
  staticListeners: { listener: TypedResource; lastUpdated: string }[];
  dynamicListeners: { name: string; activeState: { versionInfo: string; listener: TypedResource; lastUpdated: string } }[];
}

export interface ScopedRoutesConfigDump {
  '@type': 'type.googleapis.com/envoy.admin.v3.ScopedRoutesConfigDump';
}

export interface RoutesConfigDump {
  '@type': 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump';
  staticRouteConfigs: { routeConfig: TypedResource; lastUpdated: string }[];
  dynamicRouteConfigs: { versionInfo: string; routeConfig: TypedResource; lastUpdated: string }[];
}

export interface SecretsConfigDump {
  '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump';
}

/** envoy.admin.v3.ConfigDump, sections in Istio's order. */
export interface ConfigDump {
  configs: [
    BootstrapConfigDump,
    ClustersConfigDump,
    EndpointsConfigDump,
    ListenersConfigDump,
    ScopedRoutesConfigDump,
    RoutesConfigDump,
    SecretsConfigDump,
  ];
}

/** The dump's text as the generator wrote it (two-space indentation, a final newline), parsed. */
export function parseConfigDump(text: string): ConfigDump {
  return JSON.parse(text) as ConfigDump;
}
