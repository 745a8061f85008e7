package session

import (
	"sort"
	"strconv"

	"istio.io/api/security/v1beta1"

	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/security/authn"
	"istio.io/istio/pkg/config"

	"github.com/meshlens/meshlens/generator/internal/protocol"
)

// The wire types of this package live in the protocol package with the rest of the
// generator's wire format; these are their names here.
type (
	MeshIdentity = protocol.MeshIdentity
	PortMTLS     = protocol.PortMTLS
	PeerAuthn    = protocol.PeerAuthn
)

// Mesh reports the effective mesh config's identity settings.
func (s *Session) Mesh() MeshIdentity {
	aliases := append([]string{}, s.mesh.GetTrustDomainAliases()...)
	return MeshIdentity{
		TrustDomain:        s.mesh.GetTrustDomain(),
		TrustDomainAliases: aliases,
		RootNamespace:      s.mesh.GetRootNamespace(),
	}
}

// PeerAuthentication resolves the PeerAuthentication of a proxy's workload.
func (s *Session) PeerAuthentication(p *model.Proxy) PeerAuthn {
	push := p.LastPushContext
	if push == nil {
		push = s.server.PushContext()
	}
	root := push.AuthnPolicies.GetRootNamespace()
	configs := push.AuthnPolicies.GetPeerAuthenticationsForWorkload(model.PolicyMatcherForProxy(p))
	merged := authn.ComposePeerAuthentication(root, configs)

	// The configs ComposePeerAuthentication keeps from each scope (its own rule: the oldest wins).
	var meshCfg, nsCfg, workloadCfg *config.Config
	older := func(cur, cfg *config.Config) *config.Config {
		if cur == nil || cfg.CreationTimestamp.Before(cur.CreationTimestamp) {
			return cfg
		}
		return cur
	}
	for _, cfg := range configs {
		spec := cfg.Spec.(*v1beta1.PeerAuthentication)
		switch {
		case len(spec.GetSelector().GetMatchLabels()) == 0 && cfg.Namespace == root:
			meshCfg = older(meshCfg, cfg)
		case len(spec.GetSelector().GetMatchLabels()) == 0:
			nsCfg = older(nsCfg, cfg)
		case cfg.Namespace != root:
			workloadCfg = older(workloadCfg, cfg)
		}
	}
	ref := func(cfg *config.Config) *ObjectRef {
		return &ObjectRef{Kind: "PeerAuthentication", Namespace: cfg.Namespace, Name: cfg.Name}
	}
	sets := func(cfg *config.Config) bool {
		return cfg != nil && cfg.Spec.(*v1beta1.PeerAuthentication).GetMtls().GetMode() != v1beta1.PeerAuthentication_MutualTLS_UNSET
	}
	out := PeerAuthn{Mode: merged.Mode.String(), Ports: map[string]PortMTLS{}, Policies: []ObjectRef{}, RootNamespace: root}
	for _, cfg := range []*config.Config{workloadCfg, nsCfg, meshCfg} {
		if sets(cfg) {
			out.PeerAuthentication = ref(cfg)
			break
		}
	}
	for _, cfg := range []*config.Config{meshCfg, nsCfg, workloadCfg} {
		if cfg != nil {
			out.Policies = append(out.Policies, *ref(cfg))
		}
	}
	ports := make([]int, 0, len(merged.PerPort))
	for port := range merged.PerPort {
		ports = append(ports, int(port))
	}
	sort.Ints(ports)
	for _, port := range ports {
		pm := PortMTLS{Mode: merged.PerPort[uint32(port)].String(), PeerAuthentication: out.PeerAuthentication}
		// A port-level mode that is set is the workload policy's own; UNSET inherits the workload's mode.
		if workloadCfg != nil {
			if m := workloadCfg.Spec.(*v1beta1.PeerAuthentication).GetPortLevelMtls()[uint32(port)]; m.GetMode() != v1beta1.PeerAuthentication_MutualTLS_UNSET {
				pm.PeerAuthentication = ref(workloadCfg)
			}
		}
		out.Ports[strconv.Itoa(port)] = pm
	}
	return out
}
