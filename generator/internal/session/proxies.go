package session

import (
	"errors"
	"fmt"
	"sort"

	"istio.io/istio/pilot/pkg/model"

	"github.com/meshlens/meshlens/generator/internal/protocol"
)

// The wire types of this package live in the protocol package with the rest of the
// generator's wire format; these are their names here.
type (
	ProxyInfo     = protocol.ProxyInfo
	WorkloadProxy = protocol.WorkloadProxy
)

func Describe(p *model.Proxy) ProxyInfo {
	info := ProxyInfo{
		ID:              p.ID,
		Type:            "SIDECAR",
		Namespace:       p.Metadata.Namespace,
		ConfigNamespace: p.ConfigNamespace,
		Labels:          p.Labels,
		IPs:             p.IPAddresses,
		IstioVersion:    p.Metadata.IstioVersion,
		ServiceTargets:  []string{},
	}
	if p.Type == model.Router {
		info.Type = "ROUTER"
	}
	for _, t := range p.ServiceTargets {
		info.ServiceTargets = append(info.ServiceTargets, fmt.Sprintf("%s:%d", t.Service.Hostname, t.Port.Port))
	}
	sort.Strings(info.ServiceTargets)
	// A proxy without a Sidecar resource gets a scope named "default-sidecar" and no config.
	if sc := p.SidecarScope; sc != nil && sc.Sidecar != nil {
		info.Sidecar = sc.Namespace + "/" + sc.Name
	}
	return info
}

// Proxies builds the proxy of every pod. types overrides the snapshot's proxy types by namespace/name.
func (s *Session) Proxies(types map[string]string) []WorkloadProxy {
	out := make([]WorkloadProxy, 0, len(s.podNames))
	for _, key := range s.podNames {
		ns, name := splitKey(key)
		wp := WorkloadProxy{Namespace: ns, Name: name, Kind: s.input.Kinds[key]}
		if wp.Kind == "" {
			wp.Kind = "Pod"
		}
		p, err := s.Proxy(ProxyInput{Namespace: ns, Name: name, Type: types[key]})
		switch {
		case errors.Is(err, ErrNoProxy):
		case err != nil:
			wp.Error = err.Error()
		default:
			info := Describe(p)
			wp.Proxy = &info
		}
		out = append(out, wp)
	}
	return out
}
