package session

import (
	"errors"
	"fmt"
	"sort"

	"istio.io/istio/pilot/pkg/model"
)

// ProxyInfo is a proxy as istiod sees it once it has connected.
type ProxyInfo struct {
	ID              string            `json:"id"`
	Type            string            `json:"type"` // SIDECAR or ROUTER
	Namespace       string            `json:"namespace"`
	ConfigNamespace string            `json:"configNamespace"`
	Labels          map[string]string `json:"labels"`
	IPs             []string          `json:"ips"`
	IstioVersion    string            `json:"istioVersion"`
	// ServiceTargets are the `host:port` of every service port this proxy serves, sorted.
	ServiceTargets []string `json:"serviceTargets"`
	// Sidecar is the Sidecar resource scoping this proxy (namespace/name), "" for the default scope.
	Sidecar string `json:"sidecar,omitempty"`
}

// WorkloadProxy is one pod of the snapshot: its proxy, or why it has none.
type WorkloadProxy struct {
	Namespace string     `json:"namespace"`
	Name      string     `json:"name"`
	Kind      string     `json:"kind"`
	Proxy     *ProxyInfo `json:"proxy,omitempty"`
	Error     string     `json:"error,omitempty"`
}

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
	out := make([]WorkloadProxy, 0, len(s.pods))
	for _, key := range s.PodNames() {
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
