package session

import (
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	extfake "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset/fake"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	metadatafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"
	gatewayconsts "sigs.k8s.io/gateway-api/pkg/consts"

	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/analysis/analyzers"
	"istio.io/istio/pkg/config/analysis/diag"
	"istio.io/istio/pkg/config/analysis/legacy/util/kuberesource"
	"istio.io/istio/pkg/config/analysis/local"
	"istio.io/istio/pkg/config/resource"
	"istio.io/istio/pkg/config/schema/collection"
	"istio.io/istio/pkg/config/schema/gvr"
	sresource "istio.io/istio/pkg/config/schema/resource"
	kubelib "istio.io/istio/pkg/kube"
	"istio.io/istio/pkg/kube/inject"

	"github.com/meshlens/meshlens/generator/internal/protocol"
)

// The wire types of this package live in the protocol package with the rest of the
// generator's wire format; these are their names here.
type (
	Message = protocol.AnalysisMessage
)

// Analyze runs Istio's analyzers the way `istioctl analyze -A` runs them against a live cluster
// holding exactly the snapshot's objects: every analyzer, over a Kubernetes source (Istio's fake
// client, read through the same informers and filters as a real one), the mesh config and
// meshNetworks of ConfigMap istio in the root namespace, and every message at Info level or above,
// sorted and de-duplicated. The snapshot does not change: the first answer is kept and given again,
// and the objects as sent, which nothing else reads, are dropped with it (the compute job asks once,
// before the classes: what the session holds for them no longer includes a second copy of every pod).
func (s *Session) Analyze() ([]Message, error) {
	s.analysis.Lock()
	defer s.analysis.Unlock()
	if s.analysis.messages == nil {
		msgs, err := s.analyze()
		if err != nil {
			return nil, err
		}
		s.analysis.messages = msgs
		s.input.Kubernetes, s.input.Istio, s.input.Analysis = nil, nil, nil
	}
	return s.analysis.messages, nil
}

func (s *Session) analyze() (msgs []Message, err error) {
	defer recoverFatal(&err)
	combined := analyzers.AllCombined()
	root := s.mesh.GetRootNamespace()
	client, err := s.analysisClient(kuberesource.ConvertInputsToSchemas(combined.Metadata().Inputs))
	if err != nil {
		return nil, err
	}
	sa := local.NewIstiodAnalyzer(combined, "", resource.Namespace(root), nil)
	// istioctl's defaults: revision "default", the cluster as the primary one.
	sa.AddRunningKubeSourceWithRevision(client, "default", false)
	cancel := make(chan struct{})
	defer close(cancel)
	result, err := sa.Analyze(cancel)
	if err != nil {
		return nil, err
	}
	return messagesOf(result.Messages), nil
}

// messagesOf is what `istioctl analyze` prints, one Message per line.
func messagesOf(all diag.Messages) []Message {
	filtered := all.SetDocRef("istioctl-analyze").FilterOutLowerThan(diag.Info)
	out := filtered.SortedDedupedCopy()
	msgs := make([]Message, 0, len(out))
	for i := range out {
		m := &out[i]
		msg := Message{
			Code:    m.Type.Code(),
			Level:   m.Type.Level().String(),
			Message: fmt.Sprintf(m.Type.Template(), m.Parameters...),
			Text:    m.String(),
		}
		if r := m.Resource; r != nil {
			msg.Kind = r.Metadata.Schema.Kind()
			msg.Namespace = r.Metadata.FullName.Namespace.String()
			msg.Name = r.Metadata.FullName.Name.String()
			msg.Origin = r.Origin.FriendlyName()
		}
		msgs = append(msgs, msg)
	}
	return msgs
}

// analysisClient is a fake Kubernetes client holding the snapshot's objects of the kinds the
// analyzers read, each at the version they read it (the API server serves every version of a kind),
// with the CRDs of the embedded Istio release and of the Gateway API release it embeds installed,
// as on a cluster running that release.
func (s *Session) analysisClient(inputs collection.Schemas) (kubelib.Client, error) {
	client := kubelib.NewFakeClient()
	crds := crdTracker(client)
	for _, group := range [][]json.RawMessage{s.input.Kubernetes, s.input.Istio, s.input.Analysis} {
		for _, raw := range group {
			obj, sch, ok := decodeForAnalysis(raw, inputs)
			if !ok || !listedByIstioctl(obj) {
				continue
			}
			if err := addToFakeClient(client, crds, obj, sch); err != nil {
				return nil, err
			}
		}
	}
	if err := installCRDs(client, inputs.All()); err != nil {
		return nil, err
	}
	return client, nil
}

// installCRDs installs in a fake client the CustomResourceDefinitions of the schemas that are
// custom resources, as applying their releases' CRDs to a cluster would. Gateway API CRDs carry the
// bundle version istiod requires: it watches them only from that version.
func installCRDs(client kubelib.Client, schemas []sresource.Schema) error {
	installed := client.Metadata().(*metadatafake.FakeMetadataClient).Resource(gvr.CustomResourceDefinition).(metadatafake.MetadataClient)
	for _, sch := range schemas {
		if sch.IsBuiltin() || sch.IsSynthetic() {
			continue
		}
		crd := &metav1.PartialObjectMetadata{
			TypeMeta: metav1.TypeMeta{APIVersion: "apiextensions.k8s.io/v1", Kind: "CustomResourceDefinition"},
			ObjectMeta: metav1.ObjectMeta{
				Name:        sch.Plural() + "." + sch.Group(),
				Annotations: map[string]string{gatewayconsts.BundleVersionAnnotation: gatewayconsts.BundleVersion},
			},
		}
		if _, err := installed.CreateFake(crd, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("installing CRD %s: %v", crd.Name, err)
		}
	}
	return nil
}

// decodeForAnalysis decodes an object of a kind the analyzers read, at the version they read;
// objects of other kinds, or that do not decode (Load reports those it loads), are left out.
func decodeForAnalysis(raw json.RawMessage, inputs collection.Schemas) (runtime.Object, sresource.Schema, bool) {
	var head map[string]any
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, nil, false
	}
	apiVersion, _ := head["apiVersion"].(string)
	kind, _ := head["kind"].(string)
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, nil, false
	}
	sch, ok := inputs.FindByGroupVersionAliasesKind(config.GroupVersionKind{Group: gv.Group, Version: gv.Version, Kind: kind})
	if !ok {
		return nil, nil, false
	}
	head["apiVersion"] = sch.APIVersion()
	if kind == "Secret" {
		withStandInData(head)
	}
	body, err := json.Marshal(head)
	if err != nil {
		return nil, nil, false
	}
	obj, _, err := kubelib.IstioCodec.UniversalDeserializer().Decode(body, nil, nil)
	if err != nil {
		return nil, nil, false
	}
	return obj, sch, true
}

// listedByIstioctl applies the field selectors istioctl's live source lists with
// (local.AddRunningKubeSourceWithRevision), which a fake client does not evaluate: no Helm
// release or service account token Secrets, and no Namespaces, Services, Pods or Deployments of
// the namespaces Istio never injects.
func listedByIstioctl(obj runtime.Object) bool {
	switch o := obj.(type) {
	case *corev1.Secret:
		return o.Type != "helm.sh/release.v1" && o.Type != corev1.SecretTypeServiceAccountToken
	case *corev1.Namespace:
		return !inject.IgnoredNamespaces.Contains(o.Name)
	case *corev1.Service, *corev1.Pod:
		return !inject.IgnoredNamespaces.Contains(o.(metav1.Object).GetNamespace())
	}
	if d, ok := obj.(metav1.Object); ok && obj.GetObjectKind().GroupVersionKind().Kind == "Deployment" {
		return !inject.IgnoredNamespaces.Contains(d.GetNamespace())
	}
	return true
}

// addToFakeClient puts an object into the tracker of the clientset that serves its group, as
// Istio's kube.NewFakeClient does, under its schema's resource (a guess from the kind is wrong
// for some, e.g. Gateways). Added directly rather than created through the client: see fakeKubeClient.
func addToFakeClient(client kubelib.Client, crds clienttesting.ObjectTracker, obj runtime.Object, sch sresource.Schema) error {
	type fake interface {
		Tracker() clienttesting.ObjectTracker
	}
	ns := obj.(metav1.Object).GetNamespace()
	var err error
	switch group := sch.Group(); {
	case strings.Contains(group, "istio.io"):
		err = client.Istio().(fake).Tracker().Create(sch.GroupVersionResource(), obj, ns)
	case strings.Contains(group, "gateway.networking.k8s.io"), strings.Contains(group, "gateway.networking.x-k8s.io"):
		err = client.GatewayAPI().(fake).Tracker().Create(sch.GroupVersionResource(), obj, ns)
	case group == "apiextensions.k8s.io":
		err = crds.Add(obj)
	default:
		// Kubernetes' own kinds: the resource follows from the kind.
		err = client.Kube().(fake).Tracker().Add(obj)
	}
	if err != nil {
		return fmt.Errorf("loading %s %s/%s for analysis: %v", sch.Kind(), ns, obj.(metav1.Object).GetName(), err)
	}
	return nil
}

// crdTracker serves the CustomResourceDefinitions of the fake client: its own tracker keeps
// objects through Kubernetes' structured merge, which has no schema for them.
func crdTracker(client kubelib.Client) clienttesting.ObjectTracker {
	tracker := clienttesting.NewObjectTracker(kubelib.IstioScheme, kubelib.IstioCodec.UniversalDecoder())
	ext := client.Ext().(*extfake.Clientset)
	ext.PrependReactor("*", "customresourcedefinitions", clienttesting.ObjectReaction(tracker))
	ext.PrependWatchReactor("customresourcedefinitions", func(action clienttesting.Action) (bool, watch.Interface, error) {
		w, err := tracker.Watch(action.GetResource(), action.GetNamespace())
		return true, w, err
	})
	return tracker
}
