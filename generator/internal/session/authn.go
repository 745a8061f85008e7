package session

import (
	"sort"
	"strconv"

	"istio.io/api/security/v1beta1"

	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/security/authn"
	"istio.io/istio/pkg/config"
)

// MeshIdentity is what the snapshot's mesh config (Istio's defaults applied) says about identities:
// the trust domain of every workload's SPIFFE principal (`spiffe://<trustDomain>/ns/<ns>/sa/<sa>`)
// and the root namespace, whose policies without a selector apply mesh-wide.
type MeshIdentity struct {
	TrustDomain        string   `json:"trustDomain"`
	TrustDomainAliases []string `json:"trustDomainAliases"`
	RootNamespace      string   `json:"rootNamespace"`
}

// Mesh reports the effective mesh config's identity settings.
func (s *Session) Mesh() MeshIdentity {
	aliases := append([]string{}, s.mesh.GetTrustDomainAliases()...)
	return MeshIdentity{
		TrustDomain:        s.mesh.GetTrustDomain(),
		TrustDomainAliases: aliases,
		RootNamespace:      s.mesh.GetRootNamespace(),
	}
}

// PortMTLS is the mTLS mode of one port of a workload, and the PeerAuthentication that decides it.
type PortMTLS struct {
	Mode               string     `json:"mode"`
	PeerAuthentication *ObjectRef `json:"peerAuthentication"`
}

// PeerAuthn is the PeerAuthentication in force for a workload, as istiod resolves it when it builds
// the workload's inbound listener: the policies that select it
// (AuthnPolicies.GetPeerAuthenticationsForWorkload) merged by Istio's authn applier
// (authn.ComposePeerAuthentication): workload over namespace over mesh, the oldest of a scope,
// UNSET inheriting from the scope above, port-level settings overriding the workload's.
type PeerAuthn struct {
	// Mode is the workload's mode (STRICT, PERMISSIVE or DISABLE): PERMISSIVE when no policy sets one.
	Mode string `json:"mode"`
	// PeerAuthentication is the policy whose mode is Mode; null for Istio's default (PERMISSIVE).
	PeerAuthentication *ObjectRef `json:"peerAuthentication"`
	// Ports are the workload policy's port-level settings, by port number.
	Ports map[string]PortMTLS `json:"ports"`
	// Policies are every PeerAuthentication that selects the workload, mesh first, then namespace, then workload.
	Policies []ObjectRef `json:"policies"`
	// RootNamespace is where mesh-wide policies live.
	RootNamespace string `json:"rootNamespace"`
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
