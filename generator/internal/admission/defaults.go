package admission

import (
	"encoding/json"
	"strings"

	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kubejson "k8s.io/apimachinery/pkg/util/json"
)

// Default turns an object into what the API server stores on create: for the kinds of Istio's
// and the Gateway API's CRDs, unknown fields and nulls pruned, the schema's defaults applied and
// status dropped; for the built-in kinds Istio reads, Kubernetes' defaults. Objects of other
// kinds are left as they are. The object is changed in place.
func Default(obj map[string]any) error {
	r, err := crds()
	if err != nil {
		return err
	}
	if crd := r.byGVK[gvkOf(obj)]; crd != nil {
		crd.store(obj)
		return nil
	}
	defaultBuiltin(obj)
	return nil
}

// store runs the API server's decoding of a custom resource (pruning, then defaulting) and its
// create strategy; it returns the paths of the unknown fields it pruned.
func (c *crdVersion) store(obj map[string]any) []string {
	if c.status {
		delete(obj, "status")
	}
	unknown := structuralpruning.PruneWithOptions(obj, c.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(obj, c.structural)
	structuraldefaulting.Default(obj, c.structural)
	return unknown
}

func gvkOf(obj map[string]any) schema.GroupVersionKind {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	return schema.FromAPIVersionAndKind(apiVersion, kind)
}

// defaultBuiltin applies the defaults of Kubernetes' own types (k8s.io/kubernetes pkg/apis/*/v1
// SetDefaults_*) that Istio reads, and the ServiceAccount admission plugin's account on pods.
func defaultBuiltin(obj map[string]any) {
	gvk := gvkOf(obj)
	switch gvk.GroupKind() {
	case schema.GroupKind{Kind: "Service"}:
		defaultService(mapAt(obj, "spec"))
	case schema.GroupKind{Kind: "Pod"}:
		spec := mapAt(obj, "spec")
		defaultPodSpec(spec)
		setDefault(spec, "serviceAccountName", "default")
	case schema.GroupKind{Group: "discovery.k8s.io", Kind: "EndpointSlice"}:
		for _, port := range mapsAt(obj, "ports") {
			setDefault(port, "protocol", "TCP")
		}
	case schema.GroupKind{Group: "apps", Kind: "Deployment"}:
		spec := mapAt(obj, "spec")
		setDefault(spec, "replicas", int64(1))
		setDefault(spec, "revisionHistoryLimit", int64(10))
		setDefault(spec, "progressDeadlineSeconds", int64(600))
		strategy := mapAt(spec, "strategy")
		setDefault(strategy, "type", "RollingUpdate")
		if strategy["type"] == "RollingUpdate" {
			rolling := mapAt(strategy, "rollingUpdate")
			setDefault(rolling, "maxUnavailable", "25%")
			setDefault(rolling, "maxSurge", "25%")
		}
		defaultPodSpec(mapAt(mapAt(spec, "template"), "spec"))
	case schema.GroupKind{Group: "apps", Kind: "StatefulSet"}, schema.GroupKind{Group: "apps", Kind: "ReplicaSet"}:
		spec := mapAt(obj, "spec")
		setDefault(spec, "replicas", int64(1))
		defaultPodSpec(mapAt(mapAt(spec, "template"), "spec"))
	case schema.GroupKind{Group: "apps", Kind: "DaemonSet"}:
		defaultPodSpec(mapAt(mapAt(mapAt(obj, "spec"), "template"), "spec"))
	}
}

func defaultService(spec map[string]any) {
	setDefault(spec, "type", "ClusterIP")
	setDefault(spec, "sessionAffinity", "None")
	serviceType := spec["type"]
	if serviceType != "ExternalName" {
		setDefault(spec, "internalTrafficPolicy", "Cluster")
	}
	if serviceType == "NodePort" || serviceType == "LoadBalancer" {
		setDefault(spec, "externalTrafficPolicy", "Cluster")
	}
	if serviceType == "LoadBalancer" {
		setDefault(spec, "allocateLoadBalancerNodePorts", true)
	}
	for _, port := range mapsAt(spec, "ports") {
		setDefault(port, "protocol", "TCP")
		// A Service port without targetPort (or with 0) targets the same port number on the pods.
		if target, found := port["targetPort"]; !found || target == nil || target == int64(0) || target == float64(0) || target == "" {
			if number, ok := port["port"]; ok {
				port["targetPort"] = number
			}
		}
	}
}

func defaultPodSpec(spec map[string]any) {
	setDefault(spec, "restartPolicy", "Always")
	setDefault(spec, "dnsPolicy", "ClusterFirst")
	setDefault(spec, "schedulerName", "default-scheduler")
	setDefault(spec, "terminationGracePeriodSeconds", int64(30))
	setDefault(spec, "securityContext", map[string]any{})
	for _, list := range []string{"initContainers", "containers"} {
		for _, container := range mapsAt(spec, list) {
			defaultContainer(container)
		}
	}
}

func defaultContainer(container map[string]any) {
	setDefault(container, "terminationMessagePath", "/dev/termination-log")
	setDefault(container, "terminationMessagePolicy", "File")
	if image, ok := container["image"].(string); ok {
		setDefault(container, "imagePullPolicy", imagePullPolicy(image))
	}
	for _, port := range mapsAt(container, "ports") {
		setDefault(port, "protocol", "TCP")
	}
}

// imagePullPolicy is Always for an image without a tag or tagged latest, IfNotPresent otherwise;
// a digest counts as a tag.
func imagePullPolicy(image string) string {
	if strings.Contains(image, "@") {
		return "IfNotPresent"
	}
	name := image[strings.LastIndex(image, "/")+1:]
	tag, tagged := "", false
	if i := strings.LastIndex(name, ":"); i >= 0 {
		tag, tagged = name[i+1:], true
	}
	if !tagged || tag == "latest" {
		return "Always"
	}
	return "IfNotPresent"
}

// mapAt returns obj[key] as a map, creating it when absent; nil when it is something else, which
// validation reports.
func mapAt(obj map[string]any, key string) map[string]any {
	if obj == nil {
		return nil
	}
	value, found := obj[key]
	if !found || value == nil {
		created := map[string]any{}
		obj[key] = created
		return created
	}
	m, _ := value.(map[string]any)
	return m
}

// mapsAt returns the maps of the list obj[key]; other entries are validation's to report.
func mapsAt(obj map[string]any, key string) []map[string]any {
	list, _ := obj[key].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, entry := range list {
		if m, ok := entry.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func setDefault(obj map[string]any, key string, value any) {
	if obj == nil {
		return
	}
	if current, found := obj[key]; !found || current == nil || current == "" {
		obj[key] = value
	}
}

// DefaultJSON is Default for an object in JSON, as a session loads it.
func DefaultJSON(raw []byte) ([]byte, error) {
	var obj map[string]any
	// Kubernetes' JSON decoding: whole numbers become int64, as schemas and defaults expect.
	if err := kubejson.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	if err := Default(obj); err != nil {
		return nil, err
	}
	return json.Marshal(obj)
}
