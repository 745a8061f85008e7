package protocol

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// The type URLs of Envoy's admin config dump sections and of the resources in them.
const (
	TypePrefix               = "type.googleapis.com/"
	TypeBootstrapConfigDump  = TypePrefix + "envoy.admin.v3.BootstrapConfigDump"
	TypeClustersConfigDump   = TypePrefix + "envoy.admin.v3.ClustersConfigDump"
	TypeEndpointsConfigDump  = TypePrefix + "envoy.admin.v3.EndpointsConfigDump"
	TypeListenersConfigDump  = TypePrefix + "envoy.admin.v3.ListenersConfigDump"
	TypeScopedRoutesConfDump = TypePrefix + "envoy.admin.v3.ScopedRoutesConfigDump"
	TypeRoutesConfigDump     = TypePrefix + "envoy.admin.v3.RoutesConfigDump"
	TypeSecretsConfigDump    = TypePrefix + "envoy.admin.v3.SecretsConfigDump"
	TypeCluster              = TypePrefix + "envoy.config.cluster.v3.Cluster"
	TypeListener             = TypePrefix + "envoy.config.listener.v3.Listener"
	TypeRouteConfiguration   = TypePrefix + "envoy.config.route.v3.RouteConfiguration"
	TypeClusterLoadAssign    = TypePrefix + "envoy.config.endpoint.v3.ClusterLoadAssignment"
)

// ConfigDump is a proxy's config as Envoy's admin `/config_dump?include_eds` reports it: the
// sections of envoy.admin.v3.ConfigDump in the order Istio's debug endpoint builds them
// (pilot/pkg/xds/debug.go connectionConfigDump: bootstrap, clusters, endpoints, listeners, scoped
// routes, routes, secrets). Each field is the proto3 JSON of its admin message; every resource is
// the proto3 JSON of its Envoy message with its "@type". It is the one config dump of meshlens:
// REST `config_dump`, GraphQL `configDump` and `proxy-config all -o json` give its JSON.
type ConfigDump struct {
	Bootstrap    BootstrapConfigDump
	Clusters     ClustersConfigDump
	Endpoints    EndpointsConfigDump
	Listeners    ListenersConfigDump
	ScopedRoutes ScopedRoutesConfigDump
	Routes       RoutesConfigDump
	Secrets      SecretsConfigDump
}

// BootstrapConfigDump is envoy.admin.v3.BootstrapConfigDump.
type BootstrapConfigDump struct {
	Type        string          `json:"@type"`
	Bootstrap   json.RawMessage `json:"bootstrap"`
	LastUpdated string          `json:"lastUpdated"`
}

// ClustersConfigDump is envoy.admin.v3.ClustersConfigDump.
type ClustersConfigDump struct {
	Type                  string           `json:"@type"`
	VersionInfo           string           `json:"versionInfo"`
	StaticClusters        []StaticCluster  `json:"staticClusters"`
	DynamicActiveClusters []DynamicCluster `json:"dynamicActiveClusters"`
}

// StaticCluster is envoy.admin.v3.ClustersConfigDump.StaticCluster.
type StaticCluster struct {
	Cluster     json.RawMessage `json:"cluster"`
	LastUpdated string          `json:"lastUpdated"`
}

// DynamicCluster is envoy.admin.v3.ClustersConfigDump.DynamicCluster.
type DynamicCluster struct {
	VersionInfo string          `json:"versionInfo"`
	Cluster     json.RawMessage `json:"cluster"`
	LastUpdated string          `json:"lastUpdated"`
}

// EndpointsConfigDump is envoy.admin.v3.EndpointsConfigDump.
type EndpointsConfigDump struct {
	Type                   string                  `json:"@type"`
	StaticEndpointConfigs  []StaticEndpointConfig  `json:"staticEndpointConfigs"`
	DynamicEndpointConfigs []DynamicEndpointConfig `json:"dynamicEndpointConfigs"`
}

// StaticEndpointConfig is envoy.admin.v3.EndpointsConfigDump.StaticEndpointConfig.
type StaticEndpointConfig struct {
	EndpointConfig json.RawMessage `json:"endpointConfig"`
	LastUpdated    string          `json:"lastUpdated"`
}

// DynamicEndpointConfig is envoy.admin.v3.EndpointsConfigDump.DynamicEndpointConfig.
type DynamicEndpointConfig struct {
	VersionInfo    string          `json:"versionInfo"`
	EndpointConfig json.RawMessage `json:"endpointConfig"`
	LastUpdated    string          `json:"lastUpdated"`
}

// ListenersConfigDump is envoy.admin.v3.ListenersConfigDump.
type ListenersConfigDump struct {
	Type             string            `json:"@type"`
	VersionInfo      string            `json:"versionInfo"`
	StaticListeners  []StaticListener  `json:"staticListeners"`
	DynamicListeners []DynamicListener `json:"dynamicListeners"`
}

// StaticListener is envoy.admin.v3.ListenersConfigDump.StaticListener.
type StaticListener struct {
	Listener    json.RawMessage `json:"listener"`
	LastUpdated string          `json:"lastUpdated"`
}

// DynamicListener is envoy.admin.v3.ListenersConfigDump.DynamicListener (its active state only).
type DynamicListener struct {
	Name        string               `json:"name"`
	ActiveState DynamicListenerState `json:"activeState"`
}

// DynamicListenerState is envoy.admin.v3.ListenersConfigDump.DynamicListenerState.
type DynamicListenerState struct {
	VersionInfo string          `json:"versionInfo"`
	Listener    json.RawMessage `json:"listener"`
	LastUpdated string          `json:"lastUpdated"`
}

// ScopedRoutesConfigDump is envoy.admin.v3.ScopedRoutesConfigDump (istiod generates no scoped routes).
type ScopedRoutesConfigDump struct {
	Type string `json:"@type"`
}

// RoutesConfigDump is envoy.admin.v3.RoutesConfigDump.
type RoutesConfigDump struct {
	Type                string               `json:"@type"`
	StaticRouteConfigs  []StaticRouteConfig  `json:"staticRouteConfigs"`
	DynamicRouteConfigs []DynamicRouteConfig `json:"dynamicRouteConfigs"`
}

// StaticRouteConfig is envoy.admin.v3.RoutesConfigDump.StaticRouteConfig.
type StaticRouteConfig struct {
	RouteConfig json.RawMessage `json:"routeConfig"`
	LastUpdated string          `json:"lastUpdated"`
}

// DynamicRouteConfig is envoy.admin.v3.RoutesConfigDump.DynamicRouteConfig.
type DynamicRouteConfig struct {
	VersionInfo string          `json:"versionInfo"`
	RouteConfig json.RawMessage `json:"routeConfig"`
	LastUpdated string          `json:"lastUpdated"`
}

// SecretsConfigDump is envoy.admin.v3.SecretsConfigDump: the secrets come from istio-agent's SDS,
// which meshlens does not run, so it is empty.
type SecretsConfigDump struct {
	Type string `json:"@type"`
}

// MarshalJSON writes `{"configs": [...]}` with the sections in their order.
func (d ConfigDump) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Configs []any `json:"configs"`
	}{[]any{d.Bootstrap, d.Clusters, d.Endpoints, d.Listeners, d.ScopedRoutes, d.Routes, d.Secrets}})
}

// JSON is the dump's one text: indented by two spaces, ending in a newline, with no HTML escaping
// and numbers written as JavaScript writes them, so that `JSON.stringify(JSON.parse(text), null, 2)`
// gives the same bytes back (what GraphQL's JSON scalar serves is then the text every other surface
// serves).
func (d ConfigDump) JSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return JSNumbers(b.Bytes()), nil
}

// JSNumbers rewrites the numbers of a JSON text that have a fraction or an exponent as ECMAScript's
// Number::toString writes them (proto3 JSON writes a Struct's 2147483647 as 2.147483647e+09).
func JSNumbers(text []byte) []byte {
	var out []byte
	inString, escaped := false, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '-' || (c >= '0' && c <= '9'):
			j := i + 1
			for j < len(text) && bytes.IndexByte([]byte("0123456789.eE+-"), text[j]) >= 0 {
				j++
			}
			literal := text[i:j]
			if bytes.ContainsAny(literal, ".eE") {
				if f, err := strconv.ParseFloat(string(literal), 64); err == nil {
					if js, err := json.Marshal(f); err == nil && !bytes.Equal(js, literal) {
						if out == nil {
							out = append(make([]byte, 0, len(text)), text[:i]...)
						}
						out = append(out, js...)
						i = j - 1
						continue
					}
				}
			}
			if out != nil {
				out = append(out, literal...)
			}
			i = j - 1
			continue
		}
		if out != nil {
			out = append(out, c)
		}
	}
	if out == nil {
		return text
	}
	return out
}
