package render

import (
	"encoding/json"
	"io"
	"sort"
	"strings"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	xdsstatus "github.com/envoyproxy/go-control-plane/envoy/service/status/v3"

	"istio.io/istio/istioctl/pkg/writer/pilot"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/util/protoconv"
	"istio.io/istio/pilot/pkg/xds"
	v3 "istio.io/istio/pilot/pkg/xds/v3"
	"istio.io/istio/pkg/cluster"
	istioversion "istio.io/istio/pkg/version"
)

// DefaultIstiod names the control plane in proxy-status: meshlens plays istiod.
const DefaultIstiod = "meshlens"

var shortTypes = map[string]string{
	"CDS": v3.ClusterType, "LDS": v3.ListenerType, "EDS": v3.EndpointType, "RDS": v3.RouteType,
	"ECDS": v3.ExtensionConfigurationType, "SDS": v3.SecretType,
}

// printStatus prints proxy-status through istioctl's XdsStatusWriter, from the syncz response istiod
// would give if every proxy were connected and had acknowledged its config.
func printStatus(w io.Writer, p Params, output string) error {
	istiod := p.Istiod
	if istiod == "" {
		istiod = DefaultIstiod
	}
	resp, err := Syncz(p.Proxies, istiod)
	if err != nil {
		return err
	}
	format := "table"
	if output != "short" {
		format = output
	}
	sw := &pilot.XdsStatusWriter{Writer: w, OutputFormat: format, Verbosity: p.Flags.Verbosity}
	return sw.PrintAll(map[string]*discovery.DiscoveryResponse{istiod: resp})
}

// Syncz is istiod's TypeDebugSyncronization response (pilot/pkg/xds/statusgen.go) for the proxies.
func Syncz(proxies []StatusProxy, istiod string) (*discovery.DiscoveryResponse, error) {
	cp, err := json.Marshal(xds.IstioControlPlaneInstance{Component: "istiod", ID: istiod, Info: istioversion.Info})
	if err != nil {
		return nil, err
	}
	resp := &discovery.DiscoveryResponse{TypeUrl: xds.TypeDebugSyncronization, ControlPlane: &core.ControlPlane{Identifier: string(cp)}}
	for _, sp := range proxies {
		if sp.ID == "" {
			return nil, badRequest("a proxy of proxy-status has no id")
		}
		types := sp.Types
		if types == nil {
			types = []string{"CDS", "LDS"}
		}
		urls := make([]string, 0, len(types))
		for _, t := range types {
			if u, ok := shortTypes[strings.ToUpper(t)]; ok {
				urls = append(urls, u)
			} else if strings.HasPrefix(t, typePrefix) {
				urls = append(urls, t)
			} else {
				return nil, badRequest("unknown xDS type %q (CDS, LDS, EDS, RDS, ECDS, SDS or a type URL)", t)
			}
		}
		sort.Strings(urls)
		configs := make([]*xdsstatus.ClientConfig_GenericXdsConfig, 0, len(urls))
		for _, u := range urls {
			configs = append(configs, &xdsstatus.ClientConfig_GenericXdsConfig{TypeUrl: u, ConfigStatus: xdsstatus.ConfigStatus_SYNCED})
		}
		clusterID := sp.ClusterID
		if clusterID == "" {
			clusterID = "Kubernetes"
		}
		cc := &xdsstatus.ClientConfig{
			Node: &core.Node{
				Id: sp.ID,
				Metadata: model.NodeMetadata{
					ClusterID:    cluster.ID(clusterID),
					Namespace:    sp.Namespace,
					IstioVersion: sp.IstioVersion,
				}.ToStruct(),
			},
			GenericXdsConfigs: configs,
		}
		resp.Resources = append(resp.Resources, protoconv.MessageToAny(cc))
	}
	return resp, nil
}
