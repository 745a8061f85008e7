package session

import (
	"encoding/json"
	"strings"
	"testing"

	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"sigs.k8s.io/yaml"
)

// A Gateway of class istio served by the pod Istio deploys for it, two HTTPRoutes (one across
// namespaces, allowed by a ReferenceGrant, one naming a Service that does not exist), a GRPCRoute,
// and a GAMMA route splitting the callers of a Service.
const gatewayAPISnapshot = `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: backend}
---
apiVersion: v1
kind: Service
metadata: {name: edge-istio, namespace: shop, labels: {gateway.networking.k8s.io/gateway-name: edge}}
spec:
  selector: {gateway.networking.k8s.io/gateway-name: edge}
  ports: [{name: http, port: 80, targetPort: 80}]
---
apiVersion: v1
kind: Pod
metadata:
  name: edge-istio-0
  namespace: shop
  labels: {gateway.networking.k8s.io/gateway-name: edge, service.istio.io/canonical-name: edge-istio}
spec:
  containers: [{name: istio-proxy, image: proxyv2, args: [proxy, router]}]
status: {podIP: 10.0.0.9, phase: Running}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{name: http, port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-v2, namespace: shop}
spec: {selector: {app: web-v2}, ports: [{name: http, port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: backend}
spec: {selector: {app: api}, ports: [{name: http, port: 9090}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: shop, labels: {app: client}}
spec: {containers: [{name: app, image: client}]}
status: {podIP: 10.0.0.20, phase: Running}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: shop}
spec:
  gatewayClassName: istio
  listeners:
  - name: http
    port: 80
    protocol: HTTP
    hostname: "*.example.com"
    allowedRoutes: {namespaces: {from: All}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{name: edge}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /v2}}]
    backendRefs: [{name: web-v2, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: api, namespace: backend, port: 9090}]
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: web, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: ReferenceGrant
metadata: {name: from-shop, namespace: backend}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: shop}]
  to: [{group: "", kind: Service}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: broken, namespace: shop}
spec:
  parentRefs: [{name: edge}]
  hostnames: [broken.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: missing, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: grpc, namespace: shop}
spec:
  parentRefs: [{name: edge}]
  hostnames: [grpc.example.com]
  rules:
  - backendRefs: [{name: web, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: split, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: web, port: 8080}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: web, port: 8080, weight: 90}, {name: web-v2, port: 8080, weight: 10}]
`

func TestGatewayAPIStatusAsIstiodWritesIt(t *testing.T) {
	s := mustLoad(t, splitSnapshot(t, gatewayAPISnapshot))
	byKey := statusByKey(s)
	// The built-in classes exist without being uploaded, accepted by Istio.
	if c := condition(byKey["GatewayClass /istio"], "Accepted", ""); c == nil || c.Status != "True" {
		t.Errorf("GatewayClass istio: Accepted = %+v; statuses %v", c, keys(byKey))
	}
	if _, ok := byKey["GatewayClass /istio-remote"]; !ok {
		t.Errorf("no status for the built-in class istio-remote: %v", keys(byKey))
	}
	if c := condition(byKey["Gateway shop/edge"], "Accepted", ""); c == nil || c.Status != "True" {
		t.Errorf("Gateway shop/edge: Accepted = %+v", c)
	}
	if c := condition(byKey["HTTPRoute shop/web"], "ResolvedRefs", "Gateway shop/edge"); c == nil || c.Status != "True" {
		t.Errorf("HTTPRoute shop/web (cross-namespace backend granted): ResolvedRefs = %+v", c)
	}
	c := condition(byKey["HTTPRoute shop/broken"], "ResolvedRefs", "Gateway shop/edge")
	if c == nil || c.Status != "False" || c.Reason != "BackendNotFound" || !strings.Contains(c.Message, "missing") {
		t.Errorf("HTTPRoute shop/broken: ResolvedRefs = %+v, want False BackendNotFound naming the Service", c)
	}
	if c := condition(byKey["GRPCRoute shop/grpc"], "Accepted", "Gateway shop/edge"); c == nil || c.Status != "True" {
		t.Errorf("GRPCRoute shop/grpc (its CRD installed with a bundle version): Accepted = %+v", c)
	}
	if c := condition(byKey["HTTPRoute shop/split"], "Accepted", "Service shop/web"); c == nil || c.Status != "True" {
		t.Errorf("HTTPRoute shop/split on a Service: Accepted = %+v", c)
	}
}

func TestGatewayAPIRoutesOnTheDeployedGateway(t *testing.T) {
	s := mustLoad(t, splitSnapshot(t, gatewayAPISnapshot))
	p, err := s.Proxy(ProxyInput{Namespace: "shop", Name: "edge-istio-0"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.Generate(p)
	if err != nil {
		t.Fatal(err)
	}
	r := findRoute(g.Routes, "http.80", "shop.example.com:80", "shop.web.0")
	if r == nil {
		t.Fatalf("no route shop.web.0 for shop.example.com on port 80: %v", routeNames(g.Routes))
	}
	if got := r.GetRoute().GetCluster(); got != "outbound|8080||web-v2.shop.svc.cluster.local" {
		t.Errorf("/v2 goes to %q", got)
	}
	if r := findRoute(g.Routes, "http.80", "shop.example.com:80", "shop.web.1"); r == nil || r.GetRoute().GetCluster() != "outbound|9090||api.backend.svc.cluster.local" {
		t.Errorf("/api across namespaces (granted): %v", r)
	}
	// The route names the VirtualService istiod derived; the session names the HTTPRoute behind it.
	vs := s.GatewayAPI.VirtualServices
	found := false
	for _, v := range vs {
		for _, ref := range v.Routes {
			if ref == (ObjectRef{Kind: "HTTPRoute", Namespace: "shop", Name: "web"}) && strings.HasSuffix(r.GetMetadata().GetFilterMetadata()["istio"].GetFields()["config"].GetStringValue(), "/"+v.Name) {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no derived VirtualService names HTTPRoute shop/web as the route's: %+v", vs)
	}
}

// istiod reads ListenerSets only once their CRD is installed, which Istio's harness does not do.
func TestGatewayAPIListenerSetsAreRead(t *testing.T) {
	s := mustLoad(t, splitSnapshot(t, `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{name: http, port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: shop}
spec:
  gatewayClassName: istio
  allowedListeners: {namespaces: {from: Same}}
  listeners: [{name: http, port: 80, protocol: HTTP, hostname: edge.example.com}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {name: extra, namespace: shop}
spec:
  parentRef: {name: edge}
  listeners: [{name: extra, port: 80, protocol: HTTP, hostname: extra.example.com}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{group: gateway.networking.k8s.io, kind: ListenerSet, name: extra}]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
`))
	byKey := statusByKey(s)
	if c := condition(byKey["ListenerSet shop/extra"], "Accepted", ""); c == nil || c.Status != "True" {
		t.Errorf("ListenerSet shop/extra: Accepted = %+v; statuses %v", c, keys(byKey))
	}
	if c := condition(byKey["HTTPRoute shop/web"], "Accepted", "ListenerSet shop/extra"); c == nil || c.Status != "True" {
		t.Errorf("HTTPRoute shop/web on the ListenerSet: Accepted = %+v", c)
	}
}

func TestGatewayAPIMeshRouteSplitsCallers(t *testing.T) {
	s := mustLoad(t, splitSnapshot(t, gatewayAPISnapshot))
	p, err := s.Proxy(ProxyInput{Namespace: "shop", Name: "client"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.Generate(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, rc := range g.Routes {
		if rc.Name != "8080" {
			continue
		}
		for _, vh := range rc.VirtualHosts {
			if !strings.HasPrefix(vh.Name, "web.shop.svc.cluster.local") {
				continue
			}
			wc := vh.Routes[0].GetRoute().GetWeightedClusters().GetClusters()
			if len(wc) != 2 || wc[0].GetWeight().GetValue() != 90 || wc[1].GetWeight().GetValue() != 10 {
				t.Errorf("callers of web get %v, want 90/10 between web and web-v2", wc)
			}
			return
		}
	}
	t.Fatalf("no virtual host for web on route 8080: %v", routeNames(g.Routes))
}

// statusByKey is the session's Gateway API statuses by "Kind namespace/name".
func statusByKey(s *Session) map[string]GatewayStatus {
	byKey := map[string]GatewayStatus{}
	for _, st := range s.GatewayAPI.Status {
		byKey[st.Kind+" "+st.Namespace+"/"+st.Name] = st
	}
	return byKey
}

func condition(st GatewayStatus, typ, parent string) *Condition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == typ && st.Conditions[i].Parent == parent {
			return &st.Conditions[i]
		}
	}
	return nil
}

func keys[V any](m map[string]V) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	return out
}

func findRoute(rcs []*route.RouteConfiguration, rcName, vhName, name string) *route.Route {
	for _, rc := range rcs {
		if rc.Name != rcName {
			continue
		}
		for _, vh := range rc.VirtualHosts {
			if vh.Name != vhName {
				continue
			}
			for _, r := range vh.Routes {
				if r.Name == name {
					return r
				}
			}
		}
	}
	return nil
}

func routeNames(rcs []*route.RouteConfiguration) []string {
	out := []string{}
	for _, rc := range rcs {
		for _, vh := range rc.VirtualHosts {
			for _, r := range vh.Routes {
				out = append(out, rc.Name+"/"+vh.Name+"/"+r.Name)
			}
		}
	}
	return out
}

func TestGatewayDeploymentsAsIstiodCreatesThem(t *testing.T) {
	in := splitSnapshot(t, `
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: shop}
spec:
  gatewayClassName: istio
  listeners: [{name: http, port: 80, protocol: HTTP}, {name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: cert}]}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: external, namespace: shop}
spec:
  gatewayClassName: istio
  addresses: [{type: Hostname, value: lb.example.com}]
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: other, namespace: shop}
spec:
  gatewayClassName: someone-else
  listeners: [{name: http, port: 80, protocol: HTTP}]
`)
	out, err := GatewayDeployments(DeploymentsInput{Kubernetes: in.Kubernetes})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]map[string]any{}
	for _, d := range out {
		if d.Gateway != (ObjectRef{Kind: "Gateway", Namespace: "shop", Name: "edge"}) {
			t.Errorf("deployed for %+v, only shop/edge is Istio's to deploy", d.Gateway)
		}
		var obj map[string]any
		if err := json.Unmarshal(d.Object, &obj); err != nil {
			t.Fatal(err)
		}
		kinds[obj["kind"].(string)] = obj
	}
	dep, svc := kinds["Deployment"], kinds["Service"]
	if dep == nil || svc == nil {
		t.Fatalf("want a Deployment and a Service, got %v", keys(kinds))
	}
	meta := dep["metadata"].(map[string]any)
	if meta["name"] != "edge-istio" || meta["namespace"] != "shop" {
		t.Errorf("Deployment %v/%v, want shop/edge-istio", meta["namespace"], meta["name"])
	}
	if l := meta["labels"].(map[string]any); l["gateway.networking.k8s.io/gateway-name"] != "edge" {
		t.Errorf("Deployment labels %v", l)
	}
	ports := svc["spec"].(map[string]any)["ports"].([]any)
	if len(ports) != 3 { // status port, http, https
		t.Errorf("Service ports %v", ports)
	}
}

// injectorConfigMap is ConfigMap istio-system/istio-sidecar-injector as `helm install istiod`
// renders it, its values changed by `change`.
func injectorConfigMap(t *testing.T, change func(values map[string]any)) string {
	t.Helper()
	def, err := defaultInjectorConfig()
	if err != nil {
		t.Fatal(err)
	}
	var values map[string]any
	if err := json.Unmarshal([]byte(def.values), &values); err != nil {
		t.Fatal(err)
	}
	change(values)
	v, _ := json.Marshal(values)
	config, _ := yaml.Marshal(map[string]any{"templates": map[string]string{"kube-gateway": def.templates["kube-gateway"]}})
	cm, _ := json.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": InjectorConfigMap, "namespace": "istio-system"},
		"data":     map[string]string{"config": string(config), "values": string(v)},
	})
	return string(cm)
}

const edgeGateway = `
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: shop}
spec:
  gatewayClassName: istio
  listeners: [{name: http, port: 80, protocol: HTTP}]
`

// proxyImage is the istio-proxy image of the Deployment deployed for shop/edge.
func proxyImage(t *testing.T, out []Deployed) string {
	t.Helper()
	for _, d := range out {
		var obj struct {
			Kind string `json:"kind"`
			Spec struct {
				Template struct {
					Spec struct {
						Containers []struct{ Name, Image string } `json:"containers"`
					} `json:"spec"`
				} `json:"template"`
			} `json:"spec"`
		}
		if err := json.Unmarshal(d.Object, &obj); err != nil {
			t.Fatal(err)
		}
		for _, c := range obj.Spec.Template.Spec.Containers {
			if obj.Kind == "Deployment" && c.Name == "istio-proxy" {
				return c.Image
			}
		}
	}
	t.Fatalf("no Deployment with an istio-proxy container among %d objects", len(out))
	return ""
}

func TestGatewayDeploymentsReadTheInjectorConfigMap(t *testing.T) {
	// Without the ConfigMap: a default install's values (the chart's hub and tag).
	plain, err := GatewayDeployments(DeploymentsInput{Kubernetes: splitSnapshot(t, edgeGateway).Kubernetes})
	if err != nil {
		t.Fatal(err)
	}
	if img := proxyImage(t, plain); strings.HasPrefix(img, "registry.example.com/") {
		t.Errorf("without the ConfigMap the image is %q", img)
	}
	// With it: its values, as istiod's injection watcher reads them.
	cm := injectorConfigMap(t, func(values map[string]any) {
		global := values["global"].(map[string]any)
		global["hub"] = "registry.example.com/istio"
		global["tag"] = "9.9.9"
	})
	in := splitSnapshot(t, edgeGateway+"---\n"+cm)
	out, err := GatewayDeployments(DeploymentsInput{Kubernetes: in.Kubernetes})
	if err != nil {
		t.Fatal(err)
	}
	if img := proxyImage(t, out); img != "registry.example.com/istio/proxyv2:9.9.9" {
		t.Errorf("with the ConfigMap's hub and tag the image is %q", img)
	}
	// A ConfigMap istiod cannot read is an error naming it (istiod's injector would not start).
	bad := splitSnapshot(t, edgeGateway+`---
apiVersion: v1
kind: ConfigMap
metadata: {name: istio-sidecar-injector, namespace: istio-system}
data: {config: "templates: {}"}
`)
	if _, err := GatewayDeployments(DeploymentsInput{Kubernetes: bad.Kubernetes}); err == nil || !strings.Contains(err.Error(), "istio-system/istio-sidecar-injector") {
		t.Errorf("a ConfigMap without values: %v", err)
	}
}
