package session

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/pkg/model"
	kubecontroller "istio.io/istio/pilot/pkg/serviceregistry/kube"
	"istio.io/istio/pilot/pkg/serviceregistry/provider"
	"istio.io/istio/pilot/pkg/xds"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/constants"
	"istio.io/istio/pkg/config/host"
	"istio.io/istio/pkg/config/labels"
	"istio.io/istio/pkg/config/schema/collections"
	"istio.io/istio/pkg/config/schema/gvk"
	"istio.io/istio/pkg/config/schema/kind"
	"istio.io/istio/pkg/util/sets"

	"github.com/meshlens/meshlens/generator/internal/protocol"
)

// endpointSliceServiceLabel names the Service an EndpointSlice belongs to (Kubernetes' discovery.LabelServiceName).
const endpointSliceServiceLabel = "kubernetes.io/service-name"

// PushScope decides, as istiod's push logic does, which proxies a change to the snapshot would be
// pushed to. The changed objects become the config keys istiod's controllers put in the push
// request (an Istio config by kind and name; a Service, a ServiceEntry's hosts, the endpoints of a
// pod or EndpointSlice by the hostnames of the Services concerned), and each proxy is asked
// Istio's DefaultProxyNeedsPush against this snapshot's push context (its SidecarScope's
// dependencies). A change istiod answers with a push to every proxy, or one meshlens cannot key
// (a WorkloadEntry, a ConfigMap of the root namespace, an unknown kind), forces it; so does a
// Namespace whose fields istiod reads (namespaceRead) differ between the two snapshots.
//
// A removed or changed object can matter to a proxy through the scope it had before the change
// (istiod checks the proxy's previous SidecarScope too): the caller asks the other snapshot's
// session as well, passing the keys each session found to the other.
func (s *Session) PushScope(p protocol.PushScopeParams) (out protocol.PushScopeResult, err error) {
	defer recoverFatal(&err)
	keys := sets.New[model.ConfigKey]()
	out.Fingerprints = map[string]string{}
	for _, c := range p.Changed {
		found, forced := s.configKeys(c, p.Fingerprints, out.Fingerprints)
		out.Forced = out.Forced || forced
		keys.InsertAll(found...)
	}
	out.Keys = make([]protocol.ConfigKey, 0, len(keys))
	for k := range keys {
		out.Keys = append(out.Keys, protocol.ConfigKey{Kind: k.Kind.String(), Namespace: k.Namespace, Name: k.Name})
	}
	sort.Slice(out.Keys, func(i, j int) bool {
		a, b := out.Keys[i], out.Keys[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	for _, k := range p.Keys {
		kk := kind.FromString(k.Kind)
		if kk.String() != k.Kind {
			out.Forced = true
			continue
		}
		keys.Insert(model.ConfigKey{Kind: kk, Namespace: k.Namespace, Name: k.Name})
	}
	push := s.server.PushContext()
	out.Affected = make([]bool, len(p.Proxies))
	for i, in := range p.Proxies {
		proxy, perr := s.Proxy(in)
		if perr != nil {
			// Its config is asked for again, and reports the same error.
			out.Affected[i] = true
			continue
		}
		_, out.Affected[i] = xds.DefaultProxyNeedsPush(proxy, &model.PushRequest{
			Forced:         out.Forced,
			Push:           push,
			ConfigsUpdated: keys,
		})
	}
	return out, nil
}

// configKeys are the config keys istiod's controllers would push for a change to the object as this
// snapshot has it (none when it does not have it: the other snapshot's session names them), or
// forced when istiod would push every proxy or meshlens cannot tell. theirs are the other
// session's fingerprints of the changed objects, ours this one's.
func (s *Session) configKeys(c protocol.ChangedObject, theirs, ours map[string]string) ([]model.ConfigKey, bool) {
	gv, err := schema.ParseGroupVersion(c.APIVersion)
	if err != nil {
		return nil, true
	}
	ns := c.Namespace
	switch gv.Group + "/" + c.Kind {
	case "/Service":
		return serviceKeys(kubecontroller.ServiceHostname(c.Name, ns, constants.DefaultClusterLocalDomain), ns), false
	case "/Endpoints":
		// An Endpoints object is named as its Service.
		return serviceKeys(kubecontroller.ServiceHostname(c.Name, ns, constants.DefaultClusterLocalDomain), ns), false
	case "discovery.k8s.io/EndpointSlice":
		slice, err := s.server.KubeClient().Kube().DiscoveryV1().EndpointSlices(ns).Get(context.Background(), c.Name, metav1.GetOptions{})
		if err != nil {
			return nil, false
		}
		svc := slice.Labels[endpointSliceServiceLabel]
		if svc == "" {
			return nil, true
		}
		return serviceKeys(kubecontroller.ServiceHostname(svc, ns, constants.DefaultClusterLocalDomain), ns), false
	case "/Pod":
		keys, endpoints := s.podKeys(ns, c.Name)
		if keys == nil {
			return nil, false
		}
		key := fingerprintKey(c)
		ours[key] = endpoints
		// istiod's EDS update for the pod's Services pushes nobody when their endpoints are equal
		// (EndpointIndex.UpdateServiceEndpoints); the pod's own proxy is its class's business.
		if other, ok := theirs[key]; ok && other == endpoints {
			return nil, false
		}
		return keys, false
	case "/ConfigMap":
		// istiod's xDS reads the mesh config (compared by the caller) and nothing else of ConfigMaps
		// outside its root namespace; those of the root namespace configure it.
		return nil, ns == s.mesh.GetRootNamespace()
	case "networking.istio.io/ServiceEntry":
		// istiod's ServiceEntry controller pushes each host of the entry, as a service.
		if s.server.Env().ConfigStore.Get(gvk.ServiceEntry, c.Name, ns) == nil {
			return nil, false
		}
		var out []model.ConfigKey
		for _, svc := range s.server.Env().ServiceDiscovery.Services() {
			if svc.Attributes.ServiceRegistry == provider.External && svc.Attributes.K8sAttributes.ObjectName == c.Name &&
				svc.Attributes.Namespace == ns {
				out = append(out, serviceKeys(svc.Hostname, ns)...)
			}
		}
		if len(out) == 0 {
			return nil, true
		}
		return out, false
	case "/Namespace":
		// A Namespace added or removed, or whose fields istiod reads differ from the other snapshot's,
		// forces a push (its controllers' handlers recompute services, networks, gateways); one whose
		// only change is to what istiod never reads (a label nothing selects on) is no change.
		read, ok := s.namespaceRead(c.Name)
		if !ok {
			return nil, true
		}
		key := fingerprintKey(c)
		ours[key] = read
		other, ok := theirs[key]
		return nil, !ok || other != read
	case "networking.istio.io/WorkloadEntry", "networking.istio.io/WorkloadGroup":
		return nil, true
	}
	sch, ok := collections.All.FindByGroupKind(config.GroupVersionKind{Group: gv.Group, Kind: c.Kind})
	if !ok {
		return nil, true
	}
	k, ok := gvk.ToKind(sch.GroupVersionKind())
	if !ok {
		return nil, true
	}
	return []model.ConfigKey{{Kind: k, Name: c.Name, Namespace: ns}}, false
}

// serviceKeys are what istiod pushes for a change to a service or its endpoints: the service (full
// push) and its endpoints (EDS).
func serviceKeys(hostname host.Name, ns string) []model.ConfigKey {
	return []model.ConfigKey{
		{Kind: kind.ServiceEntry, Name: hostname.String(), Namespace: ns},
		{Kind: kind.Endpoints, Name: hostname.String(), Namespace: ns},
	}
}

// podKeys are the services whose endpoints the pod, as this snapshot has it, is among (those of
// its namespace whose selector its labels match), and a fingerprint of those endpoints: the
// IstioEndpoints istiod holds for them at the pod's addresses. Nil when the snapshot has no such pod.
func (s *Session) podKeys(ns, name string) ([]model.ConfigKey, string) {
	pod := s.pod(ns, name)
	if pod == nil {
		return nil, ""
	}
	ips := sets.New[string]()
	for _, ip := range pod.Status.PodIPs {
		ips.Insert(ip.IP)
	}
	if pod.Status.PodIP != "" {
		ips.Insert(pod.Status.PodIP)
	}
	out := []model.ConfigKey{}
	var endpoints []string
	for _, svc := range s.server.Env().ServiceDiscovery.Services() {
		sel := svc.Attributes.LabelSelectors
		if svc.Attributes.Namespace != ns || len(sel) == 0 || !labels.Instance(sel).SubsetOf(pod.Labels) {
			continue
		}
		out = append(out, serviceKeys(svc.Hostname, ns)...)
		endpoints = append(endpoints, string(svc.Hostname))
		shards, ok := s.server.Env().EndpointIndex.ShardsForService(string(svc.Hostname), ns)
		if !ok {
			continue
		}
		shards.RLock()
		for _, eps := range shards.Shards {
			for _, ep := range eps {
				if !slices.ContainsFunc(ep.Addresses, ips.Contains) {
					continue
				}
				b, err := json.Marshal(ep)
				if err != nil {
					b = []byte(err.Error())
				}
				endpoints = append(endpoints, string(svc.Hostname)+" "+string(b))
			}
		}
		shards.RUnlock()
	}
	sort.Strings(endpoints)
	return out, strings.Join(endpoints, "\n")
}

// fingerprintKey names a changed object in PushScopeResult.Fingerprints.
func fingerprintKey(c protocol.ChangedObject) string {
	return c.Kind + "/" + c.Namespace + "/" + c.Name
}

// namespaceRead is what istiod's controllers read of the snapshot's Namespace, as its JSON: all of
// it but the labels and annotations outside Istio's own keys ("istio-injection", "*istio.io/*":
// networks, traffic distribution, waypoints, revisions, ...; istioKeys keeps every key naming
// istio, erring towards a push), unless something of the snapshot
// selects namespaces by their labels (the mesh config's discovery selectors, service scopes and
// ServiceEntry visibility; Gateway API routes' and listeners' allowed namespaces), in which case
// every label counts. False when the snapshot has no such Namespace.
func (s *Session) namespaceRead(name string) (string, bool) {
	obj := s.tracked(corev1.SchemeGroupVersion.WithResource("namespaces"), "", name)
	ns, ok := obj.(*corev1.Namespace)
	if !ok {
		return "", false
	}
	if !s.selectsNamespaces() {
		ns.Labels = istioKeys(ns.Labels)
	}
	ns.Annotations = istioKeys(ns.Annotations)
	b, err := json.Marshal(ns)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// selectsNamespaces reports whether the snapshot selects namespaces by label: a label selector in
// the mesh config, or any Gateway API object (its routes and listeners may allow namespaces by selector).
func (s *Session) selectsNamespaces() bool {
	return s.gatewayAPIObjects > 0 || hasLabelSelector(s.mesh.ProtoReflect())
}

// labelSelectorName is the mesh config's label selector message, which istiod matches against namespaces' labels.
var labelSelectorName = (&meshconfig.LabelSelector{}).ProtoReflect().Descriptor().FullName()

// hasLabelSelector reports whether the message sets a mesh config LabelSelector anywhere within it.
func hasLabelSelector(m protoreflect.Message) bool {
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					found = hasLabelSelector(mv.Message())
					return !found
				})
			}
		case fd.Message() == nil:
		case fd.Message().FullName() == labelSelectorName:
			found = true
		case fd.IsList():
			for i := 0; i < v.List().Len() && !found; i++ {
				found = hasLabelSelector(v.List().Get(i).Message())
			}
		default:
			found = hasLabelSelector(v.Message())
		}
		return !found
	})
	return found
}

// istioKeys are the entries of a label or annotation map whose keys are Istio's own.
func istioKeys(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if strings.Contains(k, "istio") {
			out[k] = v
		}
	}
	return out
}
