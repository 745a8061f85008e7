// Package render prints a proxy's config the way istioctl does, through istioctl's own writer
// packages: `proxy-config cluster|listener|route|endpoint|eds|all|bootstrap` from an Envoy admin
// config dump (and, for `endpoint`, Envoy's `/clusters?format=json`), and `proxy-status` from an
// istiod syncz response. The dump is assembled here as Envoy would report it: the bootstrap istio-agent
// renders from Istio's own template, its static listeners and clusters, the xDS resources istiod
// generated, the inline route configurations of every listener, and the endpoints of every cluster.
package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	sds "istio.io/istio/istioctl/pkg/writer/compare/sds"
	"istio.io/istio/istioctl/pkg/writer/envoy/clusters"
	"istio.io/istio/istioctl/pkg/writer/envoy/configdump"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pkg/config/host"
	"sigs.k8s.io/yaml"
)

// Proxy is the proxy a config was generated for (the generator's ProxyInfo).
type Proxy struct {
	ID           string            `json:"id"`
	Type         string            `json:"type"` // SIDECAR or ROUTER
	Namespace    string            `json:"namespace"`
	Labels       map[string]string `json:"labels,omitempty"`
	IPs          []string          `json:"ips,omitempty"`
	IstioVersion string            `json:"istioVersion,omitempty"`
}

// Config is a proxy's generated xDS resources as proto3 JSON (the generator's proxyConfig result).
type Config struct {
	Proxy     Proxy             `json:"proxy"`
	Listeners []json.RawMessage `json:"listeners"`
	Routes    []json.RawMessage `json:"routes"`
	Clusters  []json.RawMessage `json:"clusters"`
	Endpoints []json.RawMessage `json:"endpoints"`
}

// Flags are istioctl's flags of the proxy-config and proxy-status commands.
type Flags struct {
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
	// type URL; each is reported SYNCED. Absent: derived from Config when given, else CDS and LDS.
	Types  []string `json:"types,omitempty"`
	Config *Config  `json:"config,omitempty"`
}

// Params of the generator's `render` method.
type Params struct {
	// View: listener, route, cluster, endpoint, eds, all, bootstrap, config_dump or proxy-status.
	View string `json:"view"`
	// Config is the proxy's generated config; ConfigDump an Envoy admin config dump to use as is instead.
	Config     *Config         `json:"config,omitempty"`
	ConfigDump json.RawMessage `json:"configDump,omitempty"`
	Flags      Flags           `json:"flags"`
	// Proxies and Istiod (the control plane's instance name) are proxy-status's input.
	Proxies []StatusProxy `json:"proxies,omitempty"`
	Istiod  string        `json:"istiod,omitempty"`
}

// Result is the text istioctl would print.
type Result struct {
	Output string `json:"output"`
}

// BadRequest is a request istioctl itself would refuse (unknown view, unsupported output format).
type BadRequest struct{ error }

func badRequest(format string, args ...any) error {
	return BadRequest{fmt.Errorf(format, args...)}
}

// istioctl's "all" summary switches a package-level flag of the writers; renders run one at a time.
var mu sync.Mutex

// Render prints one view.
func Render(p Params) (*Result, error) {
	output := p.Flags.Output
	if output == "" {
		output = "short"
	}
	if output != "short" && output != "json" && output != "yaml" {
		return nil, badRequest("output format %q not supported (short, json or yaml)", output)
	}
	if p.Flags.Port < 0 || p.Flags.Port > 65535 {
		return nil, badRequest("port %d is not a port number", p.Flags.Port)
	}
	verbose := p.Flags.Verbose == nil || *p.Flags.Verbose
	var out bytes.Buffer
	mu.Lock()
	defer mu.Unlock()

	if p.View == "proxy-status" {
		if err := printStatus(&out, p, output); err != nil {
			return nil, err
		}
		return &Result{Output: out.String()}, nil
	}

	var dump []byte
	var admin []byte
	switch {
	case len(p.ConfigDump) > 0:
		dump = p.ConfigDump
		if p.View == "endpoint" {
			var err error
			if admin, err = clustersFromDump(dump); err != nil {
				return nil, err
			}
		}
	case p.Config != nil:
		d, err := Build(p.Config)
		if err != nil {
			return nil, err
		}
		if dump, err = d.JSON(); err != nil {
			return nil, err
		}
		if admin, err = d.AdminClusters(); err != nil {
			return nil, err
		}
	default:
		return nil, badRequest("render needs config (a proxy's generated config) or configDump")
	}

	if p.View == "endpoint" {
		cw := &clusters.ConfigWriter{Stdout: &out}
		if err := cw.Prime(admin); err != nil {
			return nil, err
		}
		filter := clusters.EndpointFilter{Address: p.Flags.Address, Port: uint32(p.Flags.Port), Cluster: p.Flags.Cluster, Status: p.Flags.Status}
		var err error
		if output == "short" {
			err = cw.PrintEndpointsSummary(filter)
		} else {
			err = cw.PrintEndpoints(filter, output)
		}
		if err != nil {
			return nil, err
		}
		return &Result{Output: out.String()}, nil
	}

	cw := &configdump.ConfigWriter{Stdout: &out}
	if err := cw.Prime(dump); err != nil {
		return nil, err
	}
	clusterFilter := configdump.ClusterFilter{
		FQDN: host.Name(p.Flags.FQDN), Port: p.Flags.Port, Subset: p.Flags.Subset, Direction: model.TrafficDirection(p.Flags.Direction),
	}
	listenerFilter := configdump.ListenerFilter{Address: p.Flags.Address, Port: uint32(p.Flags.Port), Type: p.Flags.Type, Verbose: verbose}
	routeFilter := configdump.RouteFilter{Name: p.Flags.Name, Verbose: verbose}
	edsFilter := configdump.EndpointFilter{Address: p.Flags.Address, Port: uint32(p.Flags.Port), Cluster: p.Flags.Cluster, Status: p.Flags.Status}
	short := output == "short"
	var err error
	switch p.View {
	case "cluster", "clusters":
		if short {
			err = cw.PrintClusterSummary(clusterFilter)
		} else {
			err = cw.PrintClusterDump(clusterFilter, output)
		}
	case "listener", "listeners":
		if short {
			err = cw.PrintListenerSummary(listenerFilter)
		} else {
			err = cw.PrintListenerDump(listenerFilter, output)
		}
	case "route", "routes":
		if short {
			err = cw.PrintRouteSummary(routeFilter)
		} else {
			err = cw.PrintRouteDump(routeFilter, output)
		}
	case "eds":
		if short {
			err = cw.PrintEndpointsSummary(edsFilter)
		} else {
			err = cw.PrintEndpoints(edsFilter, output)
		}
	case "bootstrap":
		if short {
			err = cw.PrintBootstrapSummary()
		} else {
			err = cw.PrintBootstrapDump(output)
		}
	case "all":
		if !short {
			// istioctl prints the config dump as Envoy returned it.
			err = printDump(&out, dump, output)
			break
		}
		configdump.SetPrintConfigTypeInSummary(true)
		sds.SetPrintConfigTypeInSummary(true)
		defer func() {
			configdump.SetPrintConfigTypeInSummary(false)
			sds.SetPrintConfigTypeInSummary(false)
		}()
		err = cw.PrintFullSummary(clusterFilter, listenerFilter, routeFilter, edsFilter, p.Flags.WithHeaders)
	case "config_dump":
		err = printDump(&out, dump, output)
	default:
		return nil, badRequest("unknown view %q (listener, route, cluster, endpoint, eds, all, bootstrap, config_dump, proxy-status)", p.View)
	}
	if err != nil {
		return nil, err
	}
	return &Result{Output: out.String()}, nil
}

func printDump(out *bytes.Buffer, dump []byte, output string) error {
	if output == "yaml" {
		y, err := yaml.JSONToYAML(dump)
		if err != nil {
			return err
		}
		dump = y
	}
	_, err := fmt.Fprintln(out, strings.TrimRight(string(dump), "\n"))
	return err
}
