package session

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	corev1 "k8s.io/api/core/v1"

	"istio.io/istio/pilot/pkg/model"
	labelutil "istio.io/istio/pilot/pkg/serviceregistry/util/label"
	"istio.io/istio/pkg/config/constants"

	"github.com/meshlens/meshlens/generator/internal/protocol"
)

// The wire types of this package live in the protocol package with the rest of the
// generator's wire format; these are their names here.
type (
	ProxyInput = protocol.ProxyInput
)

var (
	// ErrNoProxy is returned for a workload that runs without an Envoy.
	ErrNoProxy = errors.New("no proxy")
	// ErrBadProxy wraps every problem with a ProxyInput (UnknownWorkload says which workload is unknown).
	ErrBadProxy = errors.New("invalid proxy")
)

// DefaultIP is the address an ad-hoc proxy gets when none is given, as in Istio's own harness.
const DefaultIP = "1.1.1.1"

// Proxy builds the proxy the way istiod does when istio-proxy connects: from the node ID and node
// metadata that the injected sidecar (or a gateway deployment) would send, then the same
// per-connection initialisation (workload labels, service targets, sidecar scope, gateways).
func (s *Session) Proxy(in ProxyInput) (p *model.Proxy, err error) {
	node, err := s.node(in)
	if err != nil {
		return nil, err
	}
	defer recoverFatal(&err)
	meta, err := model.ParseMetadata(node.Metadata)
	if err != nil {
		return nil, fmt.Errorf("%w: node metadata: %v", ErrBadProxy, err)
	}
	p, err = model.ParseServiceNodeWithMetadata(node.Id, meta)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadProxy, err)
	}
	p.ConfigNamespace = model.GetProxyConfigNamespace(p)
	if in.Name == "" || len(in.Labels) > 0 || len(in.IPs) > 0 || in.IP != "" {
		// An ad-hoc proxy's namespace is its config namespace (Sidecar selection, exportTo); the
		// namespace it reports in node metadata may differ when the caller passes NAMESPACE.
		p.ConfigNamespace = in.Namespace
	}
	p.XdsNode = node
	env := s.server.Env()
	push := s.server.PushContext()
	if len(in.Labels) > 0 {
		// A proxy described by its labels is a pod with those labels. istiod reads a pod's labels from
		// the Kubernetes registry before any ServiceEntry endpoint at its address (whose labels would
		// replace them here: there is no such pod), as Istio's harness keeps the labels it is given.
		p.Labels = p.Metadata.Labels
	} else {
		p.SetWorkloadLabels(env)
	}
	p.Locality = &core.Locality{}
	p.Labels = labelutil.AugmentLabels(p.Labels, p.Metadata.ClusterID, "", p.GetNodeName(), p.Metadata.Network)
	p.SetServiceTargets(env.ServiceDiscovery)
	p.SetSidecarScope(push)
	if p.Type == model.Router {
		p.SetGatewaysForProxy(push)
	}
	p.DiscoverIPMode()
	p.LastPushContext = push
	return p, nil
}

// node is what istio-proxy would send: node ID `type~ip~id~dnsDomain` and its metadata.
func (s *Session) node(in ProxyInput) (*core.Node, error) {
	if in.Namespace == "" {
		return nil, fmt.Errorf("%w: namespace is required", ErrBadProxy)
	}
	meta := map[string]any{}
	var id string
	ips := in.IPs
	if len(ips) == 0 && in.IP != "" {
		ips = []string{in.IP}
	}
	proxyType := strings.ToUpper(in.Type)
	if in.Name != "" && len(in.Labels) == 0 && len(ips) == 0 {
		pod := s.pod(in.Namespace, in.Name)
		if pod == nil {
			return nil, UnknownWorkload{Namespace: in.Namespace, Name: in.Name}
		}
		id = pod.Name + "." + pod.Namespace
		podMetadata(pod, meta)
		for _, ip := range pod.Status.PodIPs {
			ips = append(ips, ip.IP)
		}
		if len(ips) == 0 && pod.Status.PodIP != "" {
			ips = []string{pod.Status.PodIP}
		}
		if proxyType == "" {
			proxyType = strings.ToUpper(s.input.ProxyTypes[in.Namespace+"/"+in.Name])
		}
		if proxyType == "" {
			proxyType = podProxyType(pod)
		}
	} else {
		name := in.Name
		if name == "" {
			name = "adhoc"
		}
		id = name + "." + in.Namespace
		meta["NAMESPACE"] = in.Namespace
		if len(in.Labels) > 0 {
			meta["LABELS"] = in.Labels
		}
	}
	if len(ips) == 0 {
		ips = []string{DefaultIP}
	}
	switch proxyType {
	case "", "SIDECAR":
		proxyType = string(model.SidecarProxy)
	case "ROUTER":
		proxyType = string(model.Router)
	case "NONE":
		return nil, ErrNoProxy
	default:
		return nil, fmt.Errorf("%w: unknown type %q (SIDECAR, ROUTER or NONE)", ErrBadProxy, in.Type)
	}
	meta["INSTANCE_IPS"] = strings.Join(ips, ",")
	meta["CLUSTER_ID"] = string(constants.DefaultClusterName)
	meta["ISTIO_VERSION"] = DefaultIstioVersion
	if in.IstioVersion != "" {
		meta["ISTIO_VERSION"] = in.IstioVersion
	}
	dnsDomain := in.Namespace + ".svc." + constants.DefaultClusterLocalDomain
	for k, v := range in.Metadata {
		if k == "DNS_DOMAIN" {
			dnsDomain = fmt.Sprint(v)
			continue
		}
		meta[k] = v
	}
	st, err := toStruct(meta)
	if err != nil {
		return nil, fmt.Errorf("%w: metadata: %v", ErrBadProxy, err)
	}
	return &core.Node{
		Id:       strings.Join([]string{proxyType, ips[0], id, dnsDomain}, "~"),
		Metadata: st,
	}, nil
}

// podMetadata is the node metadata Istio's injection template makes istio-proxy report for a pod.
func podMetadata(pod *corev1.Pod, meta map[string]any) {
	meta["NAMESPACE"] = pod.Namespace
	meta["LABELS"] = pod.Labels
	if len(pod.Annotations) > 0 {
		meta["ANNOTATIONS"] = pod.Annotations
	}
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	meta["SERVICE_ACCOUNT"] = sa
	meta["NODE_NAME"] = pod.Spec.NodeName
	meta["INTERCEPTION_MODE"] = "REDIRECT"
	meta["WORKLOAD_NAME"] = workloadName(pod)
	var ports []map[string]any
	for _, c := range pod.Spec.Containers {
		for _, cp := range c.Ports {
			port := map[string]any{"containerPort": cp.ContainerPort, "protocol": string(cp.Protocol)}
			if cp.Name != "" {
				port["name"] = cp.Name
			}
			if port["protocol"] == "" {
				port["protocol"] = "TCP"
			}
			ports = append(ports, port)
		}
	}
	if len(ports) > 0 {
		b, _ := json.Marshal(ports)
		meta["POD_PORTS"] = string(b)
	}
}

func workloadName(pod *corev1.Pod) string {
	for _, ref := range pod.OwnerReferences {
		if ref.Controller != nil && *ref.Controller {
			return ref.Name
		}
	}
	return pod.Name
}

// podProxyType: a pod that runs istio-proxy as a gateway (`router` argument) is a router, else a sidecar.
func podProxyType(pod *corev1.Pod) string {
	for _, c := range pod.Spec.Containers {
		if c.Name != "istio-proxy" {
			continue
		}
		for _, a := range c.Args {
			if a == "router" {
				return "ROUTER"
			}
		}
	}
	return "SIDECAR"
}

// UnknownWorkload is a ProxyInput naming a workload (pod or controller) the snapshot does not have.
type UnknownWorkload struct{ Namespace, Name string }

// Is makes an unknown workload also a bad proxy (ErrBadProxy), more precisely.
func (u UnknownWorkload) Is(target error) bool { return target == ErrBadProxy }

func (u UnknownWorkload) Error() string {
	return fmt.Sprintf("no workload %s/%s in the snapshot", u.Namespace, u.Name)
}
