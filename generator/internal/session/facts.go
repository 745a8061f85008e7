package session

import (
	"fmt"
	"sort"

	"istio.io/istio/pilot/pkg/model"

	"github.com/meshlens/meshlens/generator/internal/protocol"
)

// identityMetadata is node metadata that names the instance rather than describing it: left out of
// a proxy's facts as the service's class key leaves out a pod's addresses and owner.
var identityMetadata = []string{"INSTANCE_IPS", "WORKLOAD_NAME"}

// Facts are what istiod's generation reads about a proxy built by Proxy, besides the snapshot: its
// description, service targets with their target ports, DNS domain and node metadata, identity left
// out. Built the same way for a named workload and an ad-hoc proxy, so that equal facts mean the
// same config.
func Facts(p *model.Proxy) protocol.ProxyFacts {
	facts := protocol.ProxyFacts{Proxy: Describe(p), ServicePorts: []string{}, DNSDomain: p.DNSDomain, Metadata: map[string]any{}}
	for _, t := range p.ServiceTargets {
		facts.ServicePorts = append(facts.ServicePorts, fmt.Sprintf("%s:%d:%d", t.Service.Hostname, t.Port.Port, t.Port.TargetPort))
	}
	sort.Strings(facts.ServicePorts)
	if p.XdsNode != nil && p.XdsNode.Metadata != nil {
		facts.Metadata = p.XdsNode.Metadata.AsMap()
	}
	for _, k := range identityMetadata {
		delete(facts.Metadata, k)
	}
	return facts
}
