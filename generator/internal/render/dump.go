package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"istio.io/istio/pkg/util/protomarshal"

	"github.com/meshlens/meshlens/generator/internal/protocol"
)

const (
	typePrefix       = protocol.TypePrefix
	typeEndpointsCD  = protocol.TypeEndpointsConfigDump
	typeCLA          = protocol.TypeClusterLoadAssign
	typeHCM          = typePrefix + "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
	lastUpdated      = "1970-01-01T00:00:00Z"
	dumpVersionLabel = "meshlens"
)

// Dump is a proxy's config as Envoy's admin interface would report it.
type Dump struct {
	Bootstrap        json.RawMessage
	StaticClusters   []json.RawMessage
	DynamicClusters  []json.RawMessage
	StaticListeners  []json.RawMessage
	DynamicListeners []json.RawMessage
	StaticRoutes     []json.RawMessage // the inline route configurations of every listener
	DynamicRoutes    []json.RawMessage
	StaticEndpoints  []*endpoint.ClusterLoadAssignment
	DynamicEndpoints []*endpoint.ClusterLoadAssignment
	version          string
}

// clusterHead is what this package reads of a cluster, in either JSON spelling.
type clusterHead struct {
	Name                string          `json:"name"`
	Type                string          `json:"type"`
	LoadAssignment      json.RawMessage `json:"loadAssignment"`
	LoadAssignmentSnake json.RawMessage `json:"load_assignment"`
}

// Build assembles the dump: the bootstrap and its static resources, then istiod's resources.
func Build(cfg *Config) (*Dump, error) {
	boot, err := Bootstrap(cfg.Proxy)
	if err != nil {
		return nil, fmt.Errorf("rendering the bootstrap: %v", err)
	}
	d := &Dump{Bootstrap: boot.JSON, StaticClusters: boot.Clusters, StaticListeners: boot.Listeners, version: cfg.Proxy.IstioVersion}
	// Envoy keys every xDS type by name, and istiod's own order varies between calls: sorted by
	// name, the dump is the same for the same config (as the stores keep it, or just generated).
	d.DynamicClusters = byName(cfg.Clusters)
	d.DynamicListeners = byName(cfg.Listeners)
	d.DynamicRoutes = byName(cfg.Routes)
	for _, l := range append(append([]json.RawMessage{}, boot.Listeners...), cfg.Listeners...) {
		d.StaticRoutes = append(d.StaticRoutes, inlineRoutes(l)...)
	}

	eds := map[string]json.RawMessage{}
	for _, e := range cfg.Endpoints {
		var head struct {
			ClusterName string `json:"clusterName"`
		}
		if err := json.Unmarshal(e, &head); err != nil {
			return nil, fmt.Errorf("endpoints: %v", err)
		}
		eds[head.ClusterName] = e
	}
	if d.DynamicEndpoints, err = clusterEndpoints(d.DynamicClusters, eds); err != nil {
		return nil, err
	}
	if d.StaticEndpoints, err = clusterEndpoints(boot.Clusters, nil); err != nil {
		return nil, err
	}
	return d, nil
}

// byName is the resources sorted by their name (stable: resources without one keep their order).
func byName(resources []json.RawMessage) []json.RawMessage {
	type named struct {
		name string
		raw  json.RawMessage
	}
	list := make([]named, 0, len(resources))
	for _, r := range resources {
		var head struct {
			Name string `json:"name"`
		}
		_ = json.Unmarshal(r, &head)
		list = append(list, named{head.Name, r})
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].name < list[j].name })
	out := make([]json.RawMessage, len(list))
	for i, n := range list {
		out[i] = n.raw
	}
	return out
}

// clusterEndpoints is each cluster's hosts as Envoy's endpoint dump shows them: EDS clusters from
// their ClusterLoadAssignment, others from their inline load assignment; hosts Envoy considers
// healthy report HEALTHY. ORIGINAL_DST clusters have no hosts until traffic arrives.
func clusterEndpoints(clusters []json.RawMessage, eds map[string]json.RawMessage) ([]*endpoint.ClusterLoadAssignment, error) {
	var out []*endpoint.ClusterLoadAssignment
	for _, raw := range clusters {
		var c clusterHead
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("cluster: %v", err)
		}
		var src json.RawMessage
		switch {
		case c.Type == "EDS":
			src = eds[c.Name]
		case c.Type == "ORIGINAL_DST":
		case len(c.LoadAssignment) > 0:
			src = c.LoadAssignment
		case len(c.LoadAssignmentSnake) > 0:
			src = c.LoadAssignmentSnake
		}
		if src == nil {
			continue
		}
		cla := &endpoint.ClusterLoadAssignment{}
		if err := protomarshal.UnmarshalAllowUnknown(src, cla); err != nil {
			return nil, fmt.Errorf("endpoints of cluster %s: %v", c.Name, err)
		}
		cla.ClusterName = c.Name
		cla.Policy = nil
		cla.NamedEndpoints = nil
		for _, group := range cla.Endpoints {
			for _, lb := range group.LbEndpoints {
				if lb.HealthStatus == core.HealthStatus_UNKNOWN {
					lb.HealthStatus = core.HealthStatus_HEALTHY
				}
			}
		}
		out = append(out, cla)
	}
	return out, nil
}

// inlineRoutes are the route configurations a listener's HTTP connection managers carry inline:
// Envoy lists them as static route configs.
func inlineRoutes(listener json.RawMessage) []json.RawMessage {
	type filter struct {
		TypedConfig      json.RawMessage `json:"typedConfig"`
		TypedConfigSnake json.RawMessage `json:"typed_config"`
	}
	type chain struct {
		Filters []filter `json:"filters"`
	}
	var l struct {
		FilterChains      []chain `json:"filterChains"`
		FilterChainsSnake []chain `json:"filter_chains"`
		DefaultChain      *chain  `json:"defaultFilterChain"`
		DefaultChainSnake *chain  `json:"default_filter_chain"`
	}
	if json.Unmarshal(listener, &l) != nil {
		return nil
	}
	chains := append(append([]chain{}, l.FilterChains...), l.FilterChainsSnake...)
	for _, c := range []*chain{l.DefaultChain, l.DefaultChainSnake} {
		if c != nil {
			chains = append(chains, *c)
		}
	}
	var out []json.RawMessage
	for _, c := range chains {
		for _, f := range c.Filters {
			tc := f.TypedConfig
			if tc == nil {
				tc = f.TypedConfigSnake
			}
			var hcm struct {
				Type       string          `json:"@type"`
				Route      json.RawMessage `json:"routeConfig"`
				RouteSnake json.RawMessage `json:"route_config"`
			}
			if tc == nil || json.Unmarshal(tc, &hcm) != nil || hcm.Type != typeHCM {
				continue
			}
			if hcm.Route != nil {
				out = append(out, hcm.Route)
			} else if hcm.RouteSnake != nil {
				out = append(out, hcm.RouteSnake)
			}
		}
	}
	return out
}

// typed is a resource with its "@type", its keys in code-unit order at every level (as the stores
// keep objects): the same resource gives the same bytes whether it was stored or just generated.
func typed(typeURL string, object json.RawMessage) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(object))
	dec.UseNumber()
	var fields map[string]any
	if err := dec.Decode(&fields); err != nil || fields == nil {
		fields = map[string]any{}
	}
	fields["@type"] = typeURL
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(fields); err != nil {
		return object
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

// ConfigDump is the dump as Envoy's admin interface types it (the one config dump of meshlens).
func (d *Dump) ConfigDump() (protocol.ConfigDump, error) {
	version := d.version
	if version == "" {
		version = dumpVersionLabel
	}
	out := protocol.ConfigDump{
		Bootstrap:    protocol.BootstrapConfigDump{Type: protocol.TypeBootstrapConfigDump, Bootstrap: d.Bootstrap, LastUpdated: lastUpdated},
		Clusters:     protocol.ClustersConfigDump{Type: protocol.TypeClustersConfigDump, VersionInfo: version},
		Endpoints:    protocol.EndpointsConfigDump{Type: protocol.TypeEndpointsConfigDump},
		Listeners:    protocol.ListenersConfigDump{Type: protocol.TypeListenersConfigDump, VersionInfo: version},
		ScopedRoutes: protocol.ScopedRoutesConfigDump{Type: protocol.TypeScopedRoutesConfDump},
		Routes:       protocol.RoutesConfigDump{Type: protocol.TypeRoutesConfigDump},
		Secrets:      protocol.SecretsConfigDump{Type: protocol.TypeSecretsConfigDump},
	}
	out.Clusters.StaticClusters = make([]protocol.StaticCluster, 0, len(d.StaticClusters))
	for _, c := range d.StaticClusters {
		out.Clusters.StaticClusters = append(out.Clusters.StaticClusters, protocol.StaticCluster{Cluster: typed(protocol.TypeCluster, c), LastUpdated: lastUpdated})
	}
	out.Clusters.DynamicActiveClusters = make([]protocol.DynamicCluster, 0, len(d.DynamicClusters))
	for _, c := range d.DynamicClusters {
		out.Clusters.DynamicActiveClusters = append(out.Clusters.DynamicActiveClusters,
			protocol.DynamicCluster{VersionInfo: version, Cluster: typed(protocol.TypeCluster, c), LastUpdated: lastUpdated})
	}
	claJSON := func(cla *endpoint.ClusterLoadAssignment) (json.RawMessage, error) {
		b, err := protomarshal.Marshal(cla)
		if err != nil {
			return nil, err
		}
		return typed(typeCLA, b), nil
	}
	out.Endpoints.StaticEndpointConfigs = make([]protocol.StaticEndpointConfig, 0, len(d.StaticEndpoints))
	for _, e := range d.StaticEndpoints {
		b, err := claJSON(e)
		if err != nil {
			return out, err
		}
		out.Endpoints.StaticEndpointConfigs = append(out.Endpoints.StaticEndpointConfigs, protocol.StaticEndpointConfig{EndpointConfig: b, LastUpdated: lastUpdated})
	}
	out.Endpoints.DynamicEndpointConfigs = make([]protocol.DynamicEndpointConfig, 0, len(d.DynamicEndpoints))
	for _, e := range d.DynamicEndpoints {
		b, err := claJSON(e)
		if err != nil {
			return out, err
		}
		out.Endpoints.DynamicEndpointConfigs = append(out.Endpoints.DynamicEndpointConfigs,
			protocol.DynamicEndpointConfig{VersionInfo: version, EndpointConfig: b, LastUpdated: lastUpdated})
	}
	out.Listeners.StaticListeners = make([]protocol.StaticListener, 0, len(d.StaticListeners))
	for _, l := range d.StaticListeners {
		out.Listeners.StaticListeners = append(out.Listeners.StaticListeners, protocol.StaticListener{Listener: typed(protocol.TypeListener, l), LastUpdated: lastUpdated})
	}
	out.Listeners.DynamicListeners = make([]protocol.DynamicListener, 0, len(d.DynamicListeners))
	for _, l := range d.DynamicListeners {
		var head struct {
			Name string `json:"name"`
		}
		_ = json.Unmarshal(l, &head)
		out.Listeners.DynamicListeners = append(out.Listeners.DynamicListeners, protocol.DynamicListener{
			Name:        head.Name,
			ActiveState: protocol.DynamicListenerState{VersionInfo: version, Listener: typed(protocol.TypeListener, l), LastUpdated: lastUpdated},
		})
	}
	out.Routes.StaticRouteConfigs = make([]protocol.StaticRouteConfig, 0, len(d.StaticRoutes))
	for _, r := range d.StaticRoutes {
		out.Routes.StaticRouteConfigs = append(out.Routes.StaticRouteConfigs, protocol.StaticRouteConfig{RouteConfig: typed(protocol.TypeRouteConfiguration, r), LastUpdated: lastUpdated})
	}
	out.Routes.DynamicRouteConfigs = make([]protocol.DynamicRouteConfig, 0, len(d.DynamicRoutes))
	for _, r := range d.DynamicRoutes {
		out.Routes.DynamicRouteConfigs = append(out.Routes.DynamicRouteConfigs,
			protocol.DynamicRouteConfig{VersionInfo: version, RouteConfig: typed(protocol.TypeRouteConfiguration, r), LastUpdated: lastUpdated})
	}
	return out, nil
}

// JSON is the dump's text (protocol.ConfigDump.JSON).
func (d *Dump) JSON() ([]byte, error) {
	cd, err := d.ConfigDump()
	if err != nil {
		return nil, err
	}
	return cd.JSON()
}

// AdminClusters is Envoy's `/clusters?format=json` for the dump: every cluster with its hosts.
func (d *Dump) AdminClusters() ([]byte, error) {
	out := &adminv3.Clusters{}
	add := func(clusters []json.RawMessage, endpoints []*endpoint.ClusterLoadAssignment, viaAPI bool) error {
		byName := map[string]*endpoint.ClusterLoadAssignment{}
		for _, e := range endpoints {
			byName[e.ClusterName] = e
		}
		for _, raw := range clusters {
			var c clusterHead
			if err := json.Unmarshal(raw, &c); err != nil {
				return err
			}
			out.ClusterStatuses = append(out.ClusterStatuses, clusterStatus(c.Name, byName[c.Name], viaAPI))
		}
		return nil
	}
	if err := add(d.DynamicClusters, d.DynamicEndpoints, true); err != nil {
		return nil, err
	}
	if err := add(d.StaticClusters, d.StaticEndpoints, false); err != nil {
		return nil, err
	}
	sort.SliceStable(out.ClusterStatuses, func(i, j int) bool { return out.ClusterStatuses[i].Name < out.ClusterStatuses[j].Name })
	return protomarshal.Marshal(out)
}

func clusterStatus(name string, cla *endpoint.ClusterLoadAssignment, viaAPI bool) *adminv3.ClusterStatus {
	s := &adminv3.ClusterStatus{Name: name, AddedViaApi: viaAPI}
	if cla == nil {
		return s
	}
	for _, group := range cla.Endpoints {
		for _, lb := range group.LbEndpoints {
			ep := lb.GetEndpoint()
			if ep == nil {
				continue
			}
			weight := uint32(1)
			if w := lb.GetLoadBalancingWeight(); w != nil {
				weight = w.GetValue()
			}
			s.HostStatuses = append(s.HostStatuses, &adminv3.HostStatus{
				Address:      ep.GetAddress(),
				HealthStatus: &adminv3.HostHealthStatus{EdsHealthStatus: lb.GetHealthStatus()},
				Weight:       weight,
				Hostname:     ep.GetHostname(),
				Locality:     group.GetLocality(),
				Priority:     group.GetPriority(),
			})
		}
	}
	return s
}

// clustersFromDump derives `/clusters` from a config dump given as is (its endpoint section).
func clustersFromDump(dump []byte) ([]byte, error) {
	var cd struct {
		Configs []json.RawMessage `json:"configs"`
	}
	if err := json.Unmarshal(dump, &cd); err != nil {
		return nil, badRequest("configDump is not JSON: %v", err)
	}
	out := &adminv3.Clusters{}
	for _, c := range cd.Configs {
		var head struct {
			Type string `json:"@type"`
		}
		if json.Unmarshal(c, &head) != nil || head.Type != typeEndpointsCD {
			continue
		}
		eds := &adminv3.EndpointsConfigDump{}
		if err := protomarshal.UnmarshalAllowUnknown(c, eds); err != nil {
			return nil, fmt.Errorf("endpoints of the config dump: %v", err)
		}
		for _, e := range eds.GetStaticEndpointConfigs() {
			cla := &endpoint.ClusterLoadAssignment{}
			if e.GetEndpointConfig().UnmarshalTo(cla) == nil {
				out.ClusterStatuses = append(out.ClusterStatuses, clusterStatus(cla.ClusterName, cla, false))
			}
		}
		for _, e := range eds.GetDynamicEndpointConfigs() {
			cla := &endpoint.ClusterLoadAssignment{}
			if e.GetEndpointConfig().UnmarshalTo(cla) == nil {
				out.ClusterStatuses = append(out.ClusterStatuses, clusterStatus(cla.ClusterName, cla, true))
			}
		}
	}
	return protomarshal.Marshal(out)
}
