// Package render prints a proxy's config the way istioctl does, through istioctl's own writer
// packages: `proxy-config cluster|listener|route|endpoint|eds|all|bootstrap` from an Envoy admin
// config dump (and, for `endpoint`, Envoy's `/clusters?format=json`), and `proxy-status` from an
// istiod syncz response. The dump is assembled here as Envoy would report it: the bootstrap istio-agent
// renders from Istio's own template, its static listeners and clusters, the xDS resources istiod
// generated, the inline route configurations of every listener, and the endpoints of every cluster.
package render

import (
	"bytes"
	"fmt"
	"strings"
	"sync"

	"github.com/meshlens/meshlens/generator/internal/protocol"
	sds "istio.io/istio/istioctl/pkg/writer/compare/sds"
	"istio.io/istio/istioctl/pkg/writer/envoy/clusters"
	"istio.io/istio/istioctl/pkg/writer/envoy/configdump"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pkg/config/host"
	"sigs.k8s.io/yaml"
)

// The render method's wire types live in the protocol package with the rest of the generator's
// wire format; these are their names in this package.
type (
	Proxy       = protocol.RenderProxy
	Config      = protocol.RenderConfig
	Flags       = protocol.RenderFlags
	StatusProxy = protocol.StatusProxy
	Params      = protocol.RenderParams
	Result      = protocol.RenderResult
)

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
		d, err := Build(readBy(p.View, p.Config))
		if err != nil {
			return nil, err
		}
		// The endpoint view reads Envoy's /clusters, every other one the config dump.
		if p.View == "endpoint" {
			admin, err = d.AdminClusters()
		} else {
			dump, err = d.JSON()
		}
		if err != nil {
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

// readBy is the part of a proxy's config istioctl's writer reads for the view; the bootstrap's own
// resources are there whatever the view. The rest would be put in the dump and parsed back for
// nothing: a sidecar of a big mesh has tens of MB of clusters and endpoints, seconds of a listener
// table. TestViewsReadTheirPartOnly checks each view against the whole dump.
func readBy(view string, cfg *Config) *Config {
	c := *cfg
	switch view {
	case "listener", "listeners":
		c.Routes, c.Clusters, c.Endpoints = nil, nil, nil
	case "route", "routes":
		// A listener's inline route configurations are route configurations of the dump too.
		c.Clusters, c.Endpoints = nil, nil
	case "cluster", "clusters":
		c.Listeners, c.Routes, c.Endpoints = nil, nil, nil
	case "eds", "endpoint":
		c.Listeners, c.Routes = nil, nil
	case "bootstrap":
		c.Listeners, c.Routes, c.Clusters, c.Endpoints = nil, nil, nil, nil
	}
	return &c
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
