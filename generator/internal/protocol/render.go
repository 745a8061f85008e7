package protocol

import "encoding/json"

// The wire types of the generator's `render` method: istioctl's views of a config given in the request.

// RenderProxy is the proxy a config was generated for (the generator's ProxyInfo).
type RenderProxy struct {
	ID           string            `json:"id"`
	Type         string            `json:"type"` // SIDECAR or ROUTER
	Namespace    string            `json:"namespace"`
	Labels       map[string]string `json:"labels,omitempty"`
	IPs          []string          `json:"ips,omitempty"`
	IstioVersion string            `json:"istioVersion,omitempty"`
}

// RenderConfig is a proxy's generated xDS resources as proto3 JSON (the generator's proxyConfig result).
type RenderConfig struct {
	Proxy     RenderProxy       `json:"proxy"`
	Listeners []json.RawMessage `json:"listeners"`
	Routes    []json.RawMessage `json:"routes"`
	Clusters  []json.RawMessage `json:"clusters"`
	Endpoints []json.RawMessage `json:"endpoints"`
}

// RenderFlags are istioctl's flags of the proxy-config and proxy-status commands.
type RenderFlags struct {
	FQDN      string `json:"fqdn,omitempty"`
	Port      int    `json:"port,omitempty"`
	Subset    string `json:"subset,omitempty"`
	Direction string `json:"direction,omitempty"`
	Name      string `json:"name,omitempty"`
	Address   string `json:"address,omitempty"`
	Type      string `json:"type,omitempty"`
	Cluster   string `json:"cluster,omitempty"`
	Status    string `json:"status,omitempty"`
	// Output is short (the table, istioctl's default), json or yaml.
	Output string `json:"output,omitempty"`
	// Verbose is istioctl's --verbose of listener, route and all (default true).
	Verbose *bool `json:"verbose,omitempty"`
	// WithHeaders is `all --with-headers`.
	WithHeaders bool `json:"withHeaders,omitempty"`
	// Verbosity is proxy-status's -v (0: subscribed types, 1: a column per type).
	Verbosity int `json:"verbosity,omitempty"`
}

// StatusProxy is one proxy's line of proxy-status: what istiod's syncz reports for a connected proxy.
type StatusProxy struct {
	ID           string `json:"id"`
	ClusterID    string `json:"clusterId,omitempty"`
	Namespace    string `json:"namespace,omitempty"`
	IstioVersion string `json:"istioVersion,omitempty"`
	// Types are the xDS types the proxy subscribes to, by short name (CDS, LDS, EDS, RDS, ECDS) or
	// type URL; each is reported SYNCED. Absent: CDS and LDS, what every proxy subscribes to. The
	// service works them out from the proxy's config (src/envoy/subscribed-types.ts), which it
	// would otherwise send whole for every proxy of the mesh.
	Types []string `json:"types,omitempty"`
}

// RenderParams are the params of the generator's `render` method.
type RenderParams struct {
	// View: listener, route, cluster, endpoint, eds, all, bootstrap, config_dump or proxy-status.
	View string `json:"view"`
	// Config is the proxy's generated config; ConfigDump an Envoy admin config dump to use as is instead.
	Config     *RenderConfig   `json:"config,omitempty"`
	ConfigDump json.RawMessage `json:"configDump,omitempty"`
	Flags      RenderFlags     `json:"flags"`
	// Proxies and Istiod (the control plane's instance name) are proxy-status's input.
	Proxies []StatusProxy `json:"proxies,omitempty"`
	Istiod  string        `json:"istiod,omitempty"`
}

// RenderResult is the text istioctl would print.
type RenderResult struct {
	Output string `json:"output"`
}
