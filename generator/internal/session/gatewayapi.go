package session

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	kubefake "k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayfake "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned/fake"
	gatewayconsts "sigs.k8s.io/gateway-api/pkg/consts"

	"istio.io/istio/pilot/pkg/config/kube/gateway"
	"istio.io/istio/pilot/pkg/config/kube/gatewaycommon"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/status"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/constants"
	"istio.io/istio/pkg/config/schema/collections"
	"istio.io/istio/pkg/config/schema/gvk"
	sresource "istio.io/istio/pkg/config/schema/resource"
	kubelib "istio.io/istio/pkg/kube"

	"github.com/meshlens/meshlens/generator/internal/protocol"
)

// The wire types of this package live in the protocol package with the rest of the
// generator's wire format; these are their names here.
type (
	Condition     = protocol.Condition
	GatewayStatus = protocol.GatewayStatus
	RouteParents  = protocol.RouteParents
	ObjectRef     = protocol.ObjectRef
	GatewayAPI    = protocol.GatewayAPI
)

// GatewayAPIGroup is the API group of the Kubernetes Gateway API.
const GatewayAPIGroup = "gateway.networking.k8s.io"

// GatewayAPIBundleVersion is the Gateway API release the embedded Istio is built against (the
// sigs.k8s.io/gateway-api module version), which the CRDs of a cluster running it carry.
var GatewayAPIBundleVersion = sync.OnceValue(func() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "sigs.k8s.io/gateway-api" {
				return dep.Version
			}
		}
	}
	// Tests run without the module in the build info of their binary: Istio's go.mod pins this one.
	return "v1.6.0"
})

// servedVersions maps a Gateway API kind to the version istiod watches it at.
var servedVersions = sync.OnceValue(func() map[string]string {
	out := map[string]string{}
	for _, s := range collections.PilotGatewayAPI().All() {
		if s.Group() == GatewayAPIGroup {
			out[s.Kind()] = s.Version()
		}
	}
	return out
})

// asIstiodReadsIt presents a Gateway API object at the version istiod's informers watch (a
// ReferenceGrant uploaded as v1 is read at v1beta1 on a cluster, the API server converting between
// versions of the same schema), without the status it was read back with: istiod computes the
// status, and skips writing one equal to what the object already holds. A Secret, stored without
// its values, gets stand-ins istiod judges as it judged the real ones (the certificates a Gateway
// listener names are checked by its gateway controller).
func asIstiodReadsIt(raw json.RawMessage) json.RawMessage {
	// Most objects are left as they are, seen without decoding them into maps: the text (as
	// json.Marshal wrote it, asStored's, which escapes no letter) names neither kind nor group.
	if !bytes.Contains(raw, []byte(`"Secret"`)) && !bytes.Contains(raw, []byte(`"`+GatewayAPIGroup+"/")) {
		return raw
	}
	var obj map[string]any
	if json.Unmarshal(raw, &obj) != nil {
		return raw
	}
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	switch {
	case apiVersion == "v1" && kind == "Secret":
		withStandInData(obj)
	case strings.HasPrefix(apiVersion, GatewayAPIGroup+"/"):
		if v, ok := servedVersions()[kind]; ok {
			obj["apiVersion"] = GatewayAPIGroup + "/" + v
		}
		delete(obj, "status")
	default:
		return raw
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return raw
	}
	return out
}

// isGatewayAPIObject tells the Gateway API's typed objects, which its own clientset holds.
func isGatewayAPIObject(obj runtime.Object) bool {
	return strings.HasPrefix(reflect.TypeOf(obj).Elem().PkgPath(), "sigs.k8s.io/gateway-api/")
}

// addObjects puts objects into a fake client's object trackers directly. A Gateway API object is
// tracked at the resource of its own version: its Go type serves several versions (v1beta1's are
// aliases of v1's), and the tracker would otherwise file it under whichever the scheme lists first.
func addObjects(c kubelib.Client, objects []runtime.Object) {
	kube := c.Kube().(*kubefake.Clientset).Tracker()
	gw := c.GatewayAPI().(*gatewayfake.Clientset).Tracker()
	for _, obj := range objects {
		var err error
		if isGatewayAPIObject(obj) {
			// Istio's own kind-to-resource table: guessing would make a Gateway's "gatewaies".
			resource, ok := gvk.ToGVR(config.FromKubernetesGVK(obj.GetObjectKind().GroupVersionKind()))
			if !ok {
				panic(fatalError{fmt.Sprintf("loading %v into the registry: a kind Istio does not know", obj.GetObjectKind().GroupVersionKind())})
			}
			err = gw.Create(resource, obj, obj.(metav1.Object).GetNamespace())
		} else {
			err = kube.Add(obj)
		}
		if err != nil {
			panic(fatalError{fmt.Sprintf("loading %T into the registry: %v", obj, err)})
		}
	}
}

// annotateGatewayAPICRDs makes the Gateway API CRDs Istio's harness installs carry the
// bundle-version annotation of the release istiod is built for, as `kubectl apply` of that
// release's CRDs would: without it istiod takes GRPCRoute, TLSRoute and TCPRoute as not installed.
func annotateGatewayAPICRDs(c kubelib.Client) {
	fake, ok := c.Metadata().(*metadatafake.FakeMetadataClient)
	if !ok {
		return
	}
	annotate := func(action clienttesting.Action) (bool, runtime.Object, error) {
		var obj runtime.Object
		switch a := action.(type) {
		case clienttesting.CreateAction:
			obj = a.GetObject()
		case clienttesting.UpdateAction:
			obj = a.GetObject()
		}
		crd, ok := obj.(*metav1.PartialObjectMetadata)
		if ok && strings.HasSuffix(crd.Name, "."+GatewayAPIGroup) {
			if crd.Annotations == nil {
				crd.Annotations = map[string]string{}
			}
			crd.Annotations[gatewayconsts.BundleVersionAnnotation] = GatewayAPIBundleVersion()
		}
		// Not handled: the object tracker stores the annotated object.
		return false, nil, nil
	}
	fake.PrependReactor("create", "customresourcedefinitions", annotate)
	fake.PrependReactor("update", "customresourcedefinitions", annotate)
}

// installGatewayAPICRDs installs the CRDs of every kind of the Gateway API's standard channel that
// istiod watches, as on a cluster where that release was applied. Istio's harness installs only
// those of its routes, Gateways and ReferenceGrants: without the rest, istiod never starts the
// informers of ListenerSet or BackendTLSPolicy, and ignores them (found by ListenerSetHTTPRouting).
func installGatewayAPICRDs(c kubelib.Client) {
	var standard []sresource.Schema
	for _, s := range collections.PilotGatewayAPI().All() {
		if s.Group() == GatewayAPIGroup {
			standard = append(standard, s)
		}
	}
	if err := installCRDs(c, standard); err != nil {
		panic(fatalError{err.Error()})
	}
}

// builtinGatewayClasses runs istiod's GatewayClass controller once, on a client of its own: the
// classes Istio installs (istio, istio-remote, istio-waypoint, ...) that the snapshot lacks.
func builtinGatewayClasses(objects []runtime.Object) []runtime.Object {
	var uploaded []runtime.Object
	for _, obj := range objects {
		if _, ok := obj.(*gatewayv1.GatewayClass); ok {
			uploaded = append(uploaded, obj)
		}
	}
	c := kubelib.NewFakeClient(uploaded...)
	classes := gatewaycommon.NewClassController(c)
	stop := make(chan struct{})
	defer c.Shutdown()
	defer close(stop)
	c.RunAndWait(stop)
	if err := classes.Reconcile(types.NamespacedName{}); err != nil {
		panic(fatalError{"creating Istio's built-in GatewayClasses: " + err.Error()})
	}
	list, err := c.GatewayAPI().GatewayV1().GatewayClasses().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		panic(fatalError{"listing Istio's built-in GatewayClasses: " + err.Error()})
	}
	var out []runtime.Object
	for i := range list.Items {
		list.Items[i].SetGroupVersionKind(gvk.GatewayClass.Kubernetes())
		if !slices.ContainsFunc(uploaded, func(o runtime.Object) bool { return o.(*gatewayv1.GatewayClass).Name == list.Items[i].Name }) {
			out = append(out, &list.Items[i])
		}
	}
	return out
}

// statusStore is the API server as istiod's status manager sees it (status.NewManager takes a
// config store): it reads an object's generation, which the manager checks before writing, from
// the session's Kubernetes client, and keeps the statuses written instead of writing them. Only
// Get and UpdateStatus are called by the manager; the rest of the interface is left unimplemented.
type statusStore struct {
	model.ConfigStore
	client kubelib.Client
	mu     sync.Mutex
	state  map[ObjectRef]any
}

func (st *statusStore) Get(typ config.GroupVersionKind, name, namespace string) *config.Config {
	resource, ok := gvk.ToGVR(typ)
	if !ok {
		return nil
	}
	obj, err := st.client.GatewayAPI().(*gatewayfake.Clientset).Tracker().Get(resource, namespace, name)
	if err != nil {
		return nil
	}
	meta, ok := obj.(metav1.Object)
	if !ok {
		return nil
	}
	return &config.Config{Meta: config.Meta{GroupVersionKind: typ, Name: name, Namespace: namespace, Generation: meta.GetGeneration()}}
}

func (st *statusStore) UpdateStatus(cfg config.Config) (string, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.state[ObjectRef{Kind: cfg.GroupVersionKind.Kind, Namespace: cfg.Namespace, Name: cfg.Name}] = cfg.Status
	return "", nil
}

// Settling: istiod's gateway controller evaluates Gateways only once a push context exists (it
// needs service discovery), after the discovery server has started; the routes follow, then a
// push with the derived config. Nothing reports the end of that chain, so the session watches it:
// done when every Gateway of Istio's classes has its status, every push has been committed, and
// nothing has moved for a few ticks.
const (
	settleTick        = 20 * time.Millisecond
	settleStableTicks = 3
	settleTimeout     = 30 * time.Second
)

// gatewayAPI waits for istiod's gateway controller to settle, then reads the statuses it would
// write and the VirtualServices it derived.
func (s *Session) gatewayAPI() (*GatewayAPI, error) {
	out := &GatewayAPI{Status: []GatewayStatus{}, VirtualServices: []RouteParents{}}
	gwc, ok := s.server.Env().GatewayAPIController.(*gateway.Controller)
	if !ok || s.gatewayAPIObjects == 0 {
		return out, nil
	}
	// istiod's own status pipeline (its status manager, written to by the controller's status
	// collections once status writing is on), over a store that keeps what would be written.
	q := &statusStore{client: s.server.KubeClient(), state: map[ObjectRef]any{}}
	manager := status.NewManager(q)
	stop := make(chan struct{})
	defer close(stop)
	manager.Start(stop)
	gwc.SetStatusWrite(true, manager)
	defer gwc.SetStatusWrite(false, nil)
	discovery := s.server.Discovery
	last, stable := "", 0
	for deadline := time.Now().Add(settleTimeout); time.Now().Before(deadline) && stable < settleStableTicks; {
		time.Sleep(settleTick)
		state, complete := q.fingerprint(s.istioGateways)
		inbound, committed := discovery.InboundUpdates.Load(), discovery.CommittedUpdates.Load()
		state += fmt.Sprintf("|%d", inbound)
		if complete && committed >= inbound && state == last {
			stable++
		} else {
			stable = 0
		}
		last = state
	}
	var err error
	if out.Status, err = q.statuses(); err != nil {
		return nil, err
	}
	for _, vs := range gwc.List(gvk.VirtualService, "") {
		rp := RouteParents{Namespace: vs.Namespace, Name: vs.Name, Routes: []ObjectRef{}}
		for _, p := range strings.Split(vs.Annotations[constants.InternalParentNames], ",") {
			if ref, ok := parseParentName(p); ok {
				rp.Routes = append(rp.Routes, ref)
			}
		}
		out.VirtualServices = append(out.VirtualServices, rp)
	}
	sort.Slice(out.VirtualServices, func(i, j int) bool {
		a, b := out.VirtualServices[i], out.VirtualServices[j]
		return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
	})
	return out, nil
}

// isIstioGateway tells a Gateway of a class Istio's controllers serve, which istiod writes a status on.
func isIstioGateway(gw *gatewayv1.Gateway, classes map[string]string) bool {
	controller, ok := classes[string(gw.Spec.GatewayClassName)]
	if !ok {
		controller = string(gatewaycommon.BuiltinGatewayClasses[gw.Spec.GatewayClassName])
	}
	_, ours := gatewaycommon.ClassInfos[gatewayv1.GatewayController(controller)]
	return ours
}

// parseParentName reads istiod's `Kind/name.namespace` (namespaces hold no dots, names may).
func parseParentName(p string) (ObjectRef, bool) {
	kind, rest, ok := strings.Cut(p, "/")
	dot := strings.LastIndex(rest, ".")
	if !ok || dot < 0 {
		return ObjectRef{}, false
	}
	return ObjectRef{Kind: kind, Name: rest[:dot], Namespace: rest[dot+1:]}, true
}

// fingerprint is the queue's state in short, and whether each of the Gateways has a status.
func (q *statusStore) fingerprint(gateways []types.NamespacedName) (string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	seen := map[types.NamespacedName]bool{}
	total := 0
	for target, st := range q.state {
		if target.Kind == gvk.KubernetesGateway.Kind {
			seen[types.NamespacedName{Namespace: target.Namespace, Name: target.Name}] = true
		}
		b, _ := json.Marshal(st)
		total += len(b)
	}
	complete := true
	for _, gw := range gateways {
		complete = complete && seen[gw]
	}
	return fmt.Sprintf("%d/%d", len(q.state), total), complete
}

// statuses are the latest status of each object, sorted.
func (q *statusStore) statuses() ([]GatewayStatus, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]GatewayStatus, 0, len(q.state))
	for target, st := range q.state {
		raw, err := json.Marshal(st)
		if err != nil {
			return nil, err
		}
		out = append(out, GatewayStatus{
			Kind: target.Kind, Namespace: target.Namespace, Name: target.Name,
			Conditions: conditionsOf(raw, target.Namespace), Status: raw,
		})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return a.Kind+"/"+a.Namespace+"/"+a.Name < b.Kind+"/"+b.Namespace+"/"+b.Name
	})
	return out, nil
}

type rawStatus struct {
	Conditions []Condition `json:"conditions"`
	Listeners  []struct {
		Name       string      `json:"name"`
		Conditions []Condition `json:"conditions"`
	} `json:"listeners"`
	Parents []struct {
		ParentRef struct {
			Group       *string `json:"group"`
			Kind        *string `json:"kind"`
			Namespace   *string `json:"namespace"`
			Name        string  `json:"name"`
			SectionName *string `json:"sectionName"`
		} `json:"parentRef"`
		Conditions []Condition `json:"conditions"`
	} `json:"parents"`
}

// conditionsOf flattens a status: the object's own conditions, its listeners', its parents'
// (a parent without a namespace is in the route's).
func conditionsOf(raw json.RawMessage, namespace string) []Condition {
	var st rawStatus
	_ = json.Unmarshal(raw, &st)
	out := append([]Condition{}, st.Conditions...)
	for _, l := range st.Listeners {
		for _, c := range l.Conditions {
			c.Listener = l.Name
			out = append(out, c)
		}
	}
	for _, p := range st.Parents {
		kind := "Gateway"
		if p.ParentRef.Kind != nil {
			kind = *p.ParentRef.Kind
		}
		ns := namespace
		if p.ParentRef.Namespace != nil {
			ns = *p.ParentRef.Namespace
		}
		parent := kind + " " + ns + "/" + p.ParentRef.Name
		for _, c := range p.Conditions {
			c.Parent = parent
			if p.ParentRef.SectionName != nil {
				c.Listener = *p.ParentRef.SectionName
			}
			out = append(out, c)
		}
	}
	return out
}
