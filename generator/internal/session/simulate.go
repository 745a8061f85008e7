package session

import (
	"strings"

	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/simulation"
)

// SimulationCall is one request as Istio's traffic simulation (pilot/pkg/simulation) takes it, with
// the service's names for its modes (OUTBOUND, INBOUND, GATEWAY; HTTP, HTTP2, TCP; PLAINTEXT, TLS,
// MTLS). The simulation matches routes on the path only: it has no headers, methods or queries.
type SimulationCall struct {
	Mode     string `json:"mode"`
	Address  string `json:"address,omitempty"`
	Port     int    `json:"port"`
	Protocol string `json:"protocol"`
	TLS      string `json:"tls"`
	Host     string `json:"host,omitempty"`
	SNI      string `json:"sni,omitempty"`
	ALPN     string `json:"alpn,omitempty"`
	Path     string `json:"path,omitempty"`
}

// SimulationResult is what the simulation decides: the names it matched, or its error's text
// (simulation.ErrNoListener and the others, e.g. "no filter chains matched"); "" where it decided nothing.
type SimulationResult struct {
	Listener    string `json:"listener"`
	FilterChain string `json:"filterChain"`
	RouteConfig string `json:"routeConfig"`
	VirtualHost string `json:"virtualHost"`
	Route       string `json:"route"`
	Cluster     string `json:"cluster"`
	Error       string `json:"error"`
}

// Simulate runs Istio's own traffic simulation over exactly the config Generate gives this proxy,
// so that the service's route walk can be checked against it call by call.
func (s *Session) Simulate(p *model.Proxy, calls []SimulationCall) (out []SimulationResult, err error) {
	g, err := s.Generate(p)
	if err != nil {
		return nil, err
	}
	// The simulation keeps a *testing.T only to fail a test on config it cannot read; without one
	// such a failure is a nil dereference, which recoverFatal reports as an Istio panic.
	defer recoverFatal(&err)
	sim := &simulation.Simulation{Listeners: g.Listeners, Clusters: g.Clusters, Routes: g.Routes}
	out = make([]SimulationResult, 0, len(calls))
	for _, c := range calls {
		r := sim.Run(simulation.Call{
			Address:    c.Address,
			Port:       c.Port,
			Path:       c.Path,
			Protocol:   simulation.Protocol(strings.ToLower(c.Protocol)),
			TLS:        simulation.TLSMode(strings.ToLower(c.TLS)),
			Alpn:       c.ALPN,
			HostHeader: c.Host,
			Sni:        c.SNI,
			CallMode:   simulation.CallMode(strings.ToLower(c.Mode)),
		})
		res := SimulationResult{
			Listener:    r.ListenerMatched,
			FilterChain: r.FilterChainMatched,
			RouteConfig: r.RouteConfigMatched,
			VirtualHost: r.VirtualHostMatched,
			Route:       r.RouteMatched,
			Cluster:     r.ClusterMatched,
		}
		if r.Error != nil {
			res.Error = r.Error.Error()
		}
		out = append(out, res)
	}
	return out, nil
}
