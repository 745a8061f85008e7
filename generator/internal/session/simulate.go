package session

import (
	"strings"

	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/simulation"

	"github.com/meshlens/meshlens/generator/internal/protocol"
)

// The wire types of this package live in the protocol package with the rest of the
// generator's wire format; these are their names here.
type (
	SimulationCall   = protocol.SimulationCall
	SimulationResult = protocol.SimulationResult
)

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
