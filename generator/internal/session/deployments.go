package session

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	clienttesting "k8s.io/client-go/testing"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/manifests"
	"istio.io/istio/pilot/pkg/config/kube/gatewaycommon"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pkg/config/constants"
	"istio.io/istio/pkg/config/mesh"
	"istio.io/istio/pkg/config/mesh/meshwatcher"
	kubelib "istio.io/istio/pkg/kube"
	"istio.io/istio/pkg/kube/inject"
	"istio.io/istio/pkg/revisions"

	"github.com/meshlens/meshlens/generator/internal/protocol"
)

// The wire types of this package live in the protocol package with the rest of the
// generator's wire format; these are their names here.
type (
	DeploymentsInput = protocol.DeploymentsInput
	Deployed         = protocol.Deployed
)

// chartFiles are the templates istiod's injector ConfigMap holds by default, from Istio's own chart.
const chartFiles = "charts/istio-control/istio-discovery/files/"

// injectorConfig is the injector configuration of a default install: the chart's gateway
// templates and its default values, as `helm install istiod` renders them into the
// istio-sidecar-injector ConfigMap.
type injectorConfig struct {
	templates inject.RawTemplates
	values    string
}

var defaultInjectorConfig = sync.OnceValues(func() (injectorConfig, error) {
	cfg := injectorConfig{templates: inject.RawTemplates{}}
	for name, file := range map[string]string{"kube-gateway": "kube-gateway.yaml", "waypoint": "waypoint.yaml"} {
		b, err := fs.ReadFile(manifests.BuiltinOrDir(""), chartFiles+file)
		if err != nil {
			return cfg, err
		}
		cfg.templates[name] = string(b)
	}
	b, err := fs.ReadFile(manifests.BuiltinOrDir(""), "charts/istio-control/istio-discovery/values.yaml")
	if err != nil {
		return cfg, err
	}
	var chart map[string]any
	if err := yaml.Unmarshal(b, &chart); err != nil {
		return cfg, err
	}
	values, err := json.Marshal(chart["_internal_defaults_do_not_set"])
	cfg.values = string(values)
	return cfg, err
})

// GatewayDeployments runs istiod's gateway deployment controller over a snapshot: for each
// Gateway of a class it deploys (istio, istio-waypoint, ...), the Deployment, Service and the
// rest it would apply with server-side apply, captured instead of applied. A Gateway whose
// Deployment or Service already exists without istiod's managed-by label is left to it, as istiod
// does; one with a hostname address is not deployed.
func GatewayDeployments(in DeploymentsInput) (out []Deployed, err error) {
	defer recoverFatal(&err)
	meshCfg, err := mesh.ApplyMeshConfigDefaults(in.MeshConfig)
	if err != nil {
		meshCfg = mesh.DefaultMeshConfig()
	}
	f := &failer{}
	defer f.close()
	s := &Session{failer: f}
	objects := s.decodeKubernetes(s.asStored(in.Kubernetes))
	c := kubelib.NewFakeClientWithVersion("")
	addObjects(c, objects)
	var gateways []types.NamespacedName
	for _, obj := range objects {
		if gw, ok := obj.(*gatewayv1.Gateway); ok {
			gateways = append(gateways, types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name})
		}
	}
	if len(gateways) == 0 {
		return []Deployed{}, nil
	}
	// Reconcile applies synchronously: the patches seen while it runs are for the Gateway at hand.
	current := ObjectRef{}
	c.Dynamic().(*dynamicfake.FakeDynamicClient).PrependReactor("patch", "*", func(action clienttesting.Action) (bool, runtime.Object, error) {
		patch := action.(clienttesting.PatchAction)
		// The controller also stamps its version on the Gateway: not an object it deploys.
		if patch.GetResource().Group != GatewayAPIGroup {
			out = append(out, Deployed{Gateway: current, Object: json.RawMessage(patch.GetPatch())})
		}
		return true, nil, nil
	})
	controller, err := deploymentController(c, meshCfg, f)
	if err != nil {
		return nil, err
	}
	sort.Slice(gateways, func(i, j int) bool { return gateways[i].String() < gateways[j].String() })
	for _, gw := range gateways {
		current = ObjectRef{Kind: "Gateway", Namespace: gw.Namespace, Name: gw.Name}
		if err := controller.Reconcile(gw); err != nil {
			return nil, fmt.Errorf("gateway %s: %v", gw, err)
		}
	}
	if out == nil {
		out = []Deployed{}
	}
	return out, nil
}

// InjectorConfigMap is the ConfigMap istiod (of the default revision) reads its injection
// templates and values from, in its own namespace (pilot/pkg/bootstrap/sidecarinjector.go).
const InjectorConfigMap = "istio-sidecar-injector"

// injectionConfig is what istiod's deployment controller renders gateways with: the templates and
// values of ConfigMap istio-sidecar-injector when the snapshot holds it, read by istiod's own
// watcher (keys `config` and `values`); else those of a default install, from Istio's chart.
func injectionConfig(c kubelib.Client) (inject.Templates, inject.ValuesConfig, error) {
	ns := constants.IstioSystemNamespace
	if _, err := c.Kube().CoreV1().ConfigMaps(ns).Get(context.Background(), InjectorConfigMap, metav1.GetOptions{}); err == nil {
		cfg, values, err := inject.NewConfigMapWatcher(c, ns, InjectorConfigMap, "config", "values").Get()
		if err == nil {
			var vc inject.ValuesConfig
			if vc, err = inject.NewValuesConfig(values); err == nil {
				return cfg.Templates, vc, nil
			}
		}
		// istiod does not start its injector, nor so deploy gateways, on such a ConfigMap.
		return nil, inject.ValuesConfig{}, fmt.Errorf("ConfigMap %s/%s: %v", ns, InjectorConfigMap, err)
	}
	injector, err := defaultInjectorConfig()
	if err != nil {
		return nil, inject.ValuesConfig{}, err
	}
	templates, err := inject.ParseTemplates(injector.templates)
	if err != nil {
		return nil, inject.ValuesConfig{}, err
	}
	vc, err := inject.NewValuesConfig(injector.values)
	return templates, vc, err
}

// deploymentController is istiod's, over the client, its informers synced.
func deploymentController(c kubelib.Client, meshCfg *meshconfig.MeshConfig, f *failer) (*gatewaycommon.DeploymentController, error) {
	templates, vc, err := injectionConfig(c)
	if err != nil {
		return nil, err
	}
	env := model.NewEnvironment()
	env.Watcher = meshwatcher.NewTestWatcher(meshCfg)
	env.PushContext().InitDone.Store(true)
	stop := make(chan struct{})
	f.Cleanup(func() { close(stop) })
	tags := revisions.NewTagWatcher(c, "", constants.IstioSystemNamespace)
	webhook := func() inject.WebhookConfig {
		return inject.WebhookConfig{Templates: templates, Values: vc, MeshConfig: meshCfg}
	}
	d := gatewaycommon.NewDeploymentController(c, constants.DefaultClusterName, env, webhook, func(func()) {}, tags, "", constants.IstioSystemNamespace)
	c.RunAndWait(stop)
	go tags.Run(stop)
	kubelib.WaitForCacheSync("gateway deployments", stop, tags.HasSynced)
	return d, nil
}
