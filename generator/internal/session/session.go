// Package session loads one snapshot into Istio's own in-memory discovery server and answers
// questions about it: which proxies exist and what configuration istiod would push to each.
package session

import (
	"encoding/json"
	"fmt"
	goruntime "runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	kubefake "k8s.io/client-go/kubernetes/fake"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/meshlens/meshlens/generator/internal/admission"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/pkg/config/kube/crd"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/constants"
	"istio.io/istio/pkg/config/mesh"
	kubelib "istio.io/istio/pkg/kube"

	"github.com/meshlens/meshlens/generator/internal/protocol"
)

// The wire types of this package live in the protocol package with the rest of the
// generator's wire format; these are their names here.
type (
	Input      = protocol.LoadParams
	Diagnostic = protocol.Diagnostic
)

type Session struct {
	failer *failer
	server *xds.FakeDiscoveryServer
	// GatewayAPI is what istiod derived from the snapshot's Gateway API objects.
	GatewayAPI *GatewayAPI
	// gatewayAPIObjects counts the snapshot's Gateway API objects; istioGateways are its Gateways
	// of Istio's classes.
	gatewayAPIObjects int
	istioGateways     []types.NamespacedName
	mesh              *meshconfig.MeshConfig
	// input is the snapshot as sent; its objects are read by Analyze alone, and dropped once it has answered.
	input Input
	// kube is the fake API server Istio reads the snapshot from; a pod is read back from it when asked
	// for (pod), rather than kept decoded a second time: at 50,000 pods that copy was a quarter of the session.
	kube kubelib.Client
	// podNames are the snapshot's pods, sorted, as namespace/name.
	podNames []string
	// analysis is Analyze's answer, computed once.
	analysis struct {
		sync.Mutex
		messages []Message
	}
	Diagnostics []Diagnostic
}

// Load builds the discovery server for a snapshot. Objects Istio rejects become diagnostics.
func Load(in Input) (s *Session, err error) {
	s = &Session{failer: &failer{}, input: in}
	if s.mesh, err = mesh.ApplyMeshConfigDefaults(in.MeshConfig); err != nil {
		s.Diagnostics = append(s.Diagnostics, Diagnostic{
			Level: "Error", Kind: "ConfigMap", Namespace: "istio-system", Name: "istio",
			Message: "mesh config rejected, Istio's defaults used instead: " + err.Error(),
		})
		s.mesh = mesh.DefaultMeshConfig()
	}
	kubeObjects := s.decodeKubernetes(s.asStored(in.Kubernetes))
	configs := s.parseIstio(s.asStored(in.Istio))

	defer recoverFatal(&err)
	s.server = xds.NewFakeDiscoveryServer(s.failer, xds.FakeOptions{
		KubernetesObjects: kubeObjects,
		KubeClientBuilder: s.fakeKubeClient,
		Configs:           configs,
		MeshConfig:        s.mesh,
	})
	if s.GatewayAPI, err = s.gatewayAPI(); err != nil {
		return nil, err
	}
	return s, nil
}

// fakeKubeClient is Istio's fake Kubernetes client holding the snapshot's objects. They are added
// to its object tracker directly: creating them one by one through the client rebuilds a REST
// mapper of the whole scheme per object (client-go's field-managed tracker), which took 23 s of a
// 10,000-object snapshot's 37 s load. Gateway API objects go to the Gateway API clientset, which
// istiod's gateway controller reads (objects given to its config store are never seen by it).
func (s *Session) fakeKubeClient(objects ...runtime.Object) kubelib.Client {
	c := kubelib.NewFakeClientWithVersion("")
	annotateGatewayAPICRDs(c)
	installGatewayAPICRDs(c)
	addObjects(c, append(objects, builtinGatewayClasses(objects)...))
	s.kube = c
	return c
}

// pod is the snapshot's pod namespace/name as the fake API server holds it (a copy of its own), or
// nil when there is no such pod.
func (s *Session) pod(namespace, name string) *corev1.Pod {
	pod, _ := s.tracked(corev1.SchemeGroupVersion.WithResource("pods"), namespace, name).(*corev1.Pod)
	return pod
}

// tracked is the snapshot's object of the resource as the fake API server holds it (a copy of its
// own), or nil when there is none.
func (s *Session) tracked(resource schema.GroupVersionResource, namespace, name string) runtime.Object {
	if s.kube == nil {
		return nil
	}
	obj, err := s.kube.Kube().(*kubefake.Clientset).Tracker().Get(resource, namespace, name)
	if err != nil {
		return nil
	}
	return obj
}

// Close stops the discovery server and its informers.
func (s *Session) Close() { s.failer.close() }

func (s *Session) decodeKubernetes(raws []json.RawMessage) []runtime.Object {
	decode := kubelib.IstioCodec.UniversalDeserializer().Decode
	objs := make([]runtime.Object, len(raws))
	errs := make([]error, len(raws))
	eachInParallel(len(raws), func(i int) { objs[i], _, errs[i] = decode(asIstiodReadsIt(raws[i]), nil, nil) })
	out := make([]runtime.Object, 0, len(raws))
	for i, raw := range raws {
		obj, err := objs[i], errs[i]
		if err != nil {
			s.leaveOut(raw, "Warning", "not loaded into the registry: "+err.Error())
			continue
		}
		// istiod lists Secrets with a field selector a fake client does not evaluate.
		if _, ok := obj.(*corev1.Secret); ok && !listedByIstioctl(obj) {
			continue
		}
		if pod, ok := obj.(*corev1.Pod); ok {
			s.podNames = append(s.podNames, pod.Namespace+"/"+pod.Name)
		}
		out = append(out, obj)
	}
	sort.Strings(s.podNames)
	classes := map[string]string{}
	for _, obj := range out {
		if isGatewayAPIObject(obj) {
			s.gatewayAPIObjects++
		}
		if c, ok := obj.(*gatewayv1.GatewayClass); ok {
			classes[c.Name] = string(c.Spec.ControllerName)
		}
	}
	for _, obj := range out {
		if gw, ok := obj.(*gatewayv1.Gateway); ok && isIstioGateway(gw, classes) {
			s.istioGateways = append(s.istioGateways, types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name})
		}
	}
	return out
}

// asStored gives each object the defaults the API server would have stored it with (a Service
// port's targetPort, a CRD schema's defaults, ...): istiod reads objects from the API server.
func (s *Session) asStored(raws []json.RawMessage) []json.RawMessage {
	stored := make([]json.RawMessage, len(raws))
	errs := make([]error, len(raws))
	eachInParallel(len(raws), func(i int) { stored[i], errs[i] = admission.DefaultJSON(raws[i]) })
	out := make([]json.RawMessage, 0, len(raws))
	for i, raw := range raws {
		if errs[i] != nil {
			s.leaveOut(raw, "Warning", "not loaded: "+errs[i].Error())
			continue
		}
		out = append(out, stored[i])
	}
	return out
}

// eachInParallel calls f for every index below n, spread over the machine's cores: a load decodes
// and defaults each object on its own (the bench mesh's 10,000 took 0.42 s on one core), and
// nothing else runs meanwhile. f must only touch what belongs to its index.
func eachInParallel(n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(goruntime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				f(i)
			}
		})
	}
	wg.Wait()
}

// parseIstio converts each object with Istio's own CRD conversion and validation, so that one bad
// object is a diagnostic rather than a lost snapshot, as istiod's webhook would reject it: all in
// one call, then, when Istio rejects any (rare: uploads are admitted by the same validation), one
// call per object.
func (s *Session) parseIstio(raws []json.RawMessage) []config.Config {
	configs, err := parseIstioStream(raws)
	if err != nil {
		configs = s.parseIstioEach(raws)
	}
	// As in Istio's own harness: objects without a creation time share one, so ordering ties fall
	// back to name and namespace.
	created := time.Now()
	for i := range configs {
		c := &configs[i]
		// istiod's Kubernetes config store stamps every object with the cluster's domain suffix;
		// short hosts ("reviews") resolve against it to reviews.<ns>.svc.cluster.local.
		c.Domain = constants.DefaultClusterLocalDomain
		if c.Namespace == "" {
			c.Namespace = "default"
		}
		if c.CreationTimestamp.IsZero() {
			c.CreationTimestamp = created
		}
	}
	return configs
}

// parseIstioStream converts every object in one call, as one JSON stream: crd.ParseInputs sets up a
// 512 KiB buffer per call, which, called per object, was a third of a bench snapshot's load. The
// stream converts each object as a call of its own would; an object Istio rejects fails it whole.
func parseIstioStream(raws []json.RawMessage) ([]config.Config, error) {
	var stream strings.Builder
	for _, raw := range raws {
		stream.Write(raw)
		stream.WriteByte('\n')
	}
	configs, _, err := crd.ParseInputs(stream.String())
	return configs, err
}

// parseIstioEach converts the objects one call each, leaving out those Istio rejects (with why).
func (s *Session) parseIstioEach(raws []json.RawMessage) []config.Config {
	out := make([]config.Config, 0, len(raws))
	for _, raw := range raws {
		configs, _, err := crd.ParseInputs(string(raw))
		if err != nil {
			s.leaveOut(raw, "Error", "rejected by Istio's validation: "+err.Error())
			continue
		}
		out = append(out, configs...)
	}
	return out
}

// leaveOut records why an object of the snapshot is not part of the session.
func (s *Session) leaveOut(raw json.RawMessage, level, message string) {
	meta := peekMeta(raw)
	s.Diagnostics = append(s.Diagnostics, Diagnostic{
		Level: level, Kind: meta.Kind, Namespace: meta.Metadata.Namespace, Name: meta.Metadata.Name, Message: message,
	})
}

type objectMeta struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
}

func peekMeta(raw json.RawMessage) objectMeta {
	var m objectMeta
	_ = json.Unmarshal(raw, &m)
	return m
}

// recoverFatal turns a Fatal raised inside Istio's harness, or any panic inside Istio, into an error.
func recoverFatal(err *error) {
	if r := recover(); r != nil {
		if f, ok := r.(fatalError); ok {
			*err = fmt.Errorf("istio: %s", f.msg)
			return
		}
		*err = fmt.Errorf("istio panicked: %v", r)
	}
}

// PodNames lists the pods of the snapshot, sorted, as namespace/name.
func (s *Session) PodNames() []string {
	return slices.Clone(s.podNames)
}

func splitKey(key string) (string, string) {
	ns, name, _ := strings.Cut(key, "/")
	return ns, name
}
