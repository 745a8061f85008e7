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
)

const (
	typePrefix       = "type.googleapis.com/"
	typeBootstrapCD  = typePrefix + "envoy.admin.v3.BootstrapConfigDump"
	typeClustersCD   = typePrefix + "envoy.admin.v3.ClustersConfigDump"
	typeListenersCD  = typePrefix + "envoy.admin.v3.ListenersConfigDump"
	typeRoutesCD     = typePrefix + "envoy.admin.v3.RoutesConfigDump"
	typeSecretsCD    = typePrefix + "envoy.admin.v3.SecretsConfigDump"
	typeEndpointsCD  = typePrefix + "envoy.admin.v3.EndpointsConfigDump"
	typeCluster      = typePrefix + "envoy.config.cluster.v3.Cluster"
	typeListener     = typePrefix + "envoy.config.listener.v3.Listener"
	typeRouteConfig  = typePrefix + "envoy.config.route.v3.RouteConfiguration"
	typeCLA          = typePrefix + "envoy.config.endpoint.v3.ClusterLoadAssignment"
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
	d.DynamicClusters = cfg.Clusters
	d.DynamicListeners = cfg.Listeners
	d.DynamicRoutes = cfg.Routes
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
	if d.DynamicEndpoints, err = clusterEndpoints(cfg.Clusters, eds); err != nil {
		return nil, err
	}
	if d.StaticEndpoints, err = clusterEndpoints(boot.Clusters, nil); err != nil {
		return nil, err
	}
	return d, nil
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

// typed prefixes a JSON object with its "@type".
func typed(typeURL string, object json.RawMessage) json.RawMessage {
	object = bytes.TrimSpace(object)
	head, _ := json.Marshal(typeURL)
	var b bytes.Buffer
	b.WriteString(`{"@type":`)
	b.Write(head)
	if len(object) > 2 {
		b.WriteByte(',')
		b.Write(object[1:])
	} else {
		b.WriteByte('}')
	}
	return b.Bytes()
}

type section map[string]any

// JSON is the dump in the shape of Envoy's `/config_dump?include_eds`.
func (d *Dump) JSON() ([]byte, error) {
	version := d.version
	if version == "" {
		version = dumpVersionLabel
	}
	claJSON := func(cla *endpoint.ClusterLoadAssignment) (json.RawMessage, error) {
		b, err := protomarshal.Marshal(cla)
		if err != nil {
			return nil, err
		}
		return typed(typeCLA, b), nil
	}
	// entries wraps each resource as one entry of a dump section; dynamic ones carry the version.
	entries := func(resources []json.RawMessage, field, typeURL, versionInfo string) []section {
		out := make([]section, 0, len(resources))
		for _, r := range resources {
			e := section{field: typed(typeURL, r), "lastUpdated": lastUpdated}
			if versionInfo != "" {
				e["versionInfo"] = versionInfo
			}
			out = append(out, e)
		}
		return out
	}
	staticClusters := entries(d.StaticClusters, "cluster", typeCluster, "")
	dynamicClusters := entries(d.DynamicClusters, "cluster", typeCluster, version)
	staticListeners := entries(d.StaticListeners, "listener", typeListener, "")
	dynamicListeners := make([]section, 0, len(d.DynamicListeners))
	for _, l := range d.DynamicListeners {
		var head struct {
			Name string `json:"name"`
		}
		_ = json.Unmarshal(l, &head)
		dynamicListeners = append(dynamicListeners, section{
			"name":        head.Name,
			"activeState": section{"versionInfo": version, "listener": typed(typeListener, l), "lastUpdated": lastUpdated},
		})
	}
	staticRoutes := entries(d.StaticRoutes, "routeConfig", typeRouteConfig, "")
	dynamicRoutes := entries(d.DynamicRoutes, "routeConfig", typeRouteConfig, version)
	staticEndpoints := make([]section, 0, len(d.StaticEndpoints))
	for _, e := range d.StaticEndpoints {
		b, err := claJSON(e)
		if err != nil {
			return nil, err
		}
		staticEndpoints = append(staticEndpoints, section{"endpointConfig": b, "lastUpdated": lastUpdated})
	}
	dynamicEndpoints := make([]section, 0, len(d.DynamicEndpoints))
	for _, e := range d.DynamicEndpoints {
		b, err := claJSON(e)
		if err != nil {
			return nil, err
		}
		dynamicEndpoints = append(dynamicEndpoints, section{"versionInfo": version, "endpointConfig": b, "lastUpdated": lastUpdated})
	}
	// Envoy's order of sections; map keys come out sorted, which is fine for JSON.
	configs := []any{
		section{"@type": typeBootstrapCD, "bootstrap": d.Bootstrap, "lastUpdated": lastUpdated},
		section{"@type": typeClustersCD, "versionInfo": version, "staticClusters": staticClusters, "dynamicActiveClusters": dynamicClusters},
		section{"@type": typeEndpointsCD, "staticEndpointConfigs": staticEndpoints, "dynamicEndpointConfigs": dynamicEndpoints},
		section{"@type": typeListenersCD, "versionInfo": version, "staticListeners": staticListeners, "dynamicListeners": dynamicListeners},
		section{"@type": typeRoutesCD, "staticRouteConfigs": staticRoutes, "dynamicRouteConfigs": dynamicRoutes},
		section{"@type": typeSecretsCD},
	}
	return json.MarshalIndent(map[string]any{"configs": configs}, "", "  ")
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
