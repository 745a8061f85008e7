package session

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/xds/endpoints"
	"istio.io/istio/pilot/test/xdstest"
)

// shopSnapshot is a small mesh: one Service whose named targetPort resolves through the pod's
// container port, its pod and EndpointSlice, a VirtualService splitting traffic between two
// DestinationRule subsets, a gateway pod typed by proxyTypes, one typed by its istio-proxy
// arguments and a pod without a proxy.
const shopSnapshot = `
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    istio-injection: enabled
---
apiVersion: v1
kind: Service
metadata:
  name: reviews
  namespace: shop
spec:
  clusterIP: 10.96.0.10
  selector:
    app: reviews
  ports:
  - name: http
    port: 80
    targetPort: http-web
---
apiVersion: v1
kind: Pod
metadata:
  name: reviews-v1-abc
  namespace: shop
  labels:
    app: reviews
    version: v1
spec:
  serviceAccountName: reviews
  containers:
  - name: reviews
    image: reviews:v1
    ports:
    - name: http-web
      containerPort: 9080
status:
  phase: Running
  podIP: 10.0.0.5
  podIPs:
  - ip: 10.0.0.5
  conditions:
  - type: Ready
    status: "True"
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: reviews-abcde
  namespace: shop
  labels:
    kubernetes.io/service-name: reviews
addressType: IPv4
endpoints:
- addresses:
  - 10.0.0.5
  conditions:
    ready: true
  targetRef:
    kind: Pod
    name: reviews-v1-abc
    namespace: shop
ports:
- name: http
  port: 9080
  protocol: TCP
---
apiVersion: v1
kind: Pod
metadata:
  name: ingress
  namespace: shop
  labels:
    app: ingress
spec:
  containers:
  - name: gateway
    image: proxyv2
status:
  phase: Running
  podIP: 10.0.0.7
---
apiVersion: v1
kind: Pod
metadata:
  name: edge
  namespace: shop
  labels:
    app: edge
spec:
  containers:
  - name: istio-proxy
    image: proxyv2
    args: [proxy, router]
status:
  phase: Running
  podIP: 10.0.0.8
---
apiVersion: v1
kind: Pod
metadata:
  name: batch
  namespace: shop
  labels:
    app: batch
spec:
  containers:
  - name: batch
    image: batch
status:
  phase: Running
  podIP: 10.0.0.9
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews-route
  namespace: shop
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v1
      weight: 80
    - destination:
        host: reviews
        subset: v2
      weight: 20
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: shop
spec:
  host: reviews
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
`

const reviewsHost = "reviews.shop.svc.cluster.local"

func loadShop(t *testing.T) *Session {
	t.Helper()
	in := splitSnapshot(t, shopSnapshot)
	in.ProxyTypes = map[string]string{"shop/ingress": "ROUTER", "shop/batch": "NONE"}
	s := mustLoad(t, in)
	if len(s.Diagnostics) != 0 {
		t.Fatalf("clean snapshot has diagnostics: %+v", s.Diagnostics)
	}
	if got, want := s.PodNames(), []string{"shop/batch", "shop/edge", "shop/ingress", "shop/reviews-v1-abc"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("PodNames = %v, want %v", got, want)
	}
	return s
}

func mustProxy(t *testing.T, s *Session, in ProxyInput) *model.Proxy {
	t.Helper()
	p, err := s.Proxy(in)
	if err != nil {
		t.Fatalf("Proxy(%+v): %v", in, err)
	}
	return p
}

func TestProxy(t *testing.T) {
	s := loadShop(t)

	t.Run("named pod", func(t *testing.T) {
		p := mustProxy(t, s, ProxyInput{Namespace: "shop", Name: "reviews-v1-abc"})
		got := Describe(p)
		want := ProxyInfo{
			ID:              "reviews-v1-abc.shop",
			Type:            "SIDECAR",
			Namespace:       "shop",
			ConfigNamespace: "shop",
			Labels: map[string]string{
				"app": "reviews", "version": "v1",
				"topology.istio.io/cluster": "Kubernetes",
			},
			IPs:            []string{"10.0.0.5"},
			IstioVersion:   DefaultIstioVersion,
			ServiceTargets: []string{reviewsHost + ":80"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Describe =\n %+v\nwant\n %+v", got, want)
		}
		if p.Type != model.SidecarProxy {
			t.Errorf("type %v", p.Type)
		}
		if p.Metadata.ServiceAccount != "reviews" {
			t.Errorf("service account %q", p.Metadata.ServiceAccount)
		}
		if p.DNSDomain != "shop.svc.cluster.local" {
			t.Errorf("DNS domain %q", p.DNSDomain)
		}
		if v := p.IstioVersion; v == nil || v.Major != 1 || v.Minor != 31 {
			t.Errorf("parsed Istio version %+v", v)
		}
	})

	t.Run("explicit istio version", func(t *testing.T) {
		p := mustProxy(t, s, ProxyInput{Namespace: "shop", Name: "reviews-v1-abc", IstioVersion: "1.24.2"})
		if got := Describe(p).IstioVersion; got != "1.24.2" {
			t.Errorf("IstioVersion %q", got)
		}
		if v := p.IstioVersion; v == nil || v.Minor != 24 || v.Patch != 2 {
			t.Errorf("parsed Istio version %+v", v)
		}
	})

	t.Run("router from proxyTypes", func(t *testing.T) {
		p := mustProxy(t, s, ProxyInput{Namespace: "shop", Name: "ingress"})
		if p.Type != model.Router || Describe(p).Type != "ROUTER" {
			t.Errorf("type %v / %v", p.Type, Describe(p).Type)
		}
		if got := Describe(p).ID; got != "ingress.shop" {
			t.Errorf("id %q", got)
		}
	})

	t.Run("router from istio-proxy args", func(t *testing.T) {
		p := mustProxy(t, s, ProxyInput{Namespace: "shop", Name: "edge"})
		if p.Type != model.Router {
			t.Errorf("type %v", p.Type)
		}
	})

	t.Run("type in the request wins", func(t *testing.T) {
		p := mustProxy(t, s, ProxyInput{Namespace: "shop", Name: "ingress", Type: "sidecar"})
		if p.Type != model.SidecarProxy {
			t.Errorf("type %v", p.Type)
		}
	})

	t.Run("NONE has no proxy", func(t *testing.T) {
		_, err := s.Proxy(ProxyInput{Namespace: "shop", Name: "batch"})
		if !errors.Is(err, ErrNoProxy) {
			t.Errorf("err = %v, want ErrNoProxy", err)
		}
	})

	for name, in := range map[string]ProxyInput{
		"unknown workload":  {Namespace: "shop", Name: "nope"},
		"bad type":          {Namespace: "shop", Name: "reviews-v1-abc", Type: "WAYPOINT"},
		"ad-hoc bad type":   {Namespace: "shop", IP: "10.1.1.1", Type: "gateway"},
		"missing namespace": {Name: "reviews-v1-abc"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.Proxy(in)
			if !errors.Is(err, ErrBadProxy) {
				t.Errorf("err = %v, want ErrBadProxy", err)
			}
		})
	}

	t.Run("ad-hoc proxy gets service targets through the selector", func(t *testing.T) {
		p := mustProxy(t, s, ProxyInput{Namespace: "shop", Labels: map[string]string{"app": "reviews"}, IP: "10.0.0.99"})
		got := Describe(p)
		if got.ID != "adhoc.shop" || got.Namespace != "shop" || got.ConfigNamespace != "shop" {
			t.Errorf("identity %+v", got)
		}
		if !reflect.DeepEqual(got.IPs, []string{"10.0.0.99"}) {
			t.Errorf("IPs %v", got.IPs)
		}
		if !reflect.DeepEqual(got.ServiceTargets, []string{reviewsHost + ":80"}) {
			t.Errorf("ServiceTargets %v", got.ServiceTargets)
		}
		if got.Labels["app"] != "reviews" || got.Labels["topology.istio.io/cluster"] != "Kubernetes" {
			t.Errorf("labels %v", got.Labels)
		}
	})

	t.Run("ad-hoc proxy without labels serves nothing", func(t *testing.T) {
		p := mustProxy(t, s, ProxyInput{Namespace: "shop", Name: "tool", IPs: []string{"10.0.1.1", "fd00::1"}})
		got := Describe(p)
		if got.ID != "tool.shop" || len(got.ServiceTargets) != 0 {
			t.Errorf("%+v", got)
		}
		if !reflect.DeepEqual(got.IPs, []string{"10.0.1.1", "fd00::1"}) {
			t.Errorf("IPs %v", got.IPs)
		}
	})

	t.Run("ad-hoc proxy default IP", func(t *testing.T) {
		p := mustProxy(t, s, ProxyInput{Namespace: "shop", Labels: map[string]string{"app": "x"}})
		if got := Describe(p).IPs; !reflect.DeepEqual(got, []string{DefaultIP}) {
			t.Errorf("IPs %v", got)
		}
	})

	t.Run("metadata passes through", func(t *testing.T) {
		p := mustProxy(t, s, ProxyInput{
			Namespace: "shop", Labels: map[string]string{"app": "reviews"}, IP: "10.0.0.99",
			Metadata: map[string]any{"DNS_CAPTURE": "true", "DNS_AUTO_ALLOCATE": "true", "DNS_DOMAIN": "custom.example"},
		})
		if !bool(p.Metadata.DNSCapture) || !bool(p.Metadata.DNSAutoAllocate) {
			t.Errorf("DNS_CAPTURE %v DNS_AUTO_ALLOCATE %v", p.Metadata.DNSCapture, p.Metadata.DNSAutoAllocate)
		}
		if p.DNSDomain != "custom.example" {
			t.Errorf("DNS domain %q", p.DNSDomain)
		}
		if _, ok := p.Metadata.Raw["DNS_DOMAIN"]; ok {
			t.Errorf("DNS_DOMAIN leaked into node metadata")
		}
	})

	t.Run("ad-hoc metadata namespace differs from config namespace", func(t *testing.T) {
		p := mustProxy(t, s, ProxyInput{
			Namespace: "shop", Type: "ROUTER", Labels: map[string]string{"istio": "ingressgateway"},
			Metadata: map[string]any{"NAMESPACE": "istio-system"},
		})
		got := Describe(p)
		if got.Namespace != "istio-system" || got.ConfigNamespace != "shop" || got.Type != "ROUTER" {
			t.Errorf("%+v", got)
		}
	})

	t.Run("Proxies", func(t *testing.T) {
		got := map[string]string{}
		for _, wp := range s.Proxies(map[string]string{"shop/edge": "NONE"}) {
			switch {
			case wp.Error != "":
				got[wp.Name] = "error: " + wp.Error
			case wp.Proxy == nil:
				got[wp.Name] = "none"
			default:
				got[wp.Name] = wp.Proxy.Type
			}
		}
		want := map[string]string{"batch": "none", "edge": "none", "ingress": "ROUTER", "reviews-v1-abc": "SIDECAR"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Proxies = %v, want %v", got, want)
		}
	})
}

// A gateway described by its labels, at the address of a ServiceEntry endpoint without labels
// (Istio's gateway tests give the gateway's Service that way): the labels select its Gateway, and
// the endpoint's port translates the server's.
func TestProxyLabelsOverEndpointAtItsAddress(t *testing.T) {
	s := mustLoad(t, splitSnapshot(t, `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: gateway
  namespace: istio-system
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["example.com"]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: ingress
  namespace: istio-system
spec:
  hosts: ["istio-ingressgateway.istio-system.svc.cluster.local"]
  ports:
  - {number: 80, targetPort: 8080, name: http, protocol: HTTP}
  resolution: STATIC
  location: MESH_INTERNAL
  endpoints:
  - address: 1.1.1.1
`))
	p := mustProxy(t, s, ProxyInput{
		Namespace: "default", Type: "ROUTER", IP: "1.1.1.1", Labels: map[string]string{"istio": "ingressgateway"},
		Metadata: map[string]any{"NAMESPACE": "istio-system"},
	})
	if got := Describe(p).Labels["istio"]; got != "ingressgateway" {
		t.Errorf("label istio = %q, want ingressgateway", got)
	}
	g, err := s.Generate(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := xdstest.ExtractListenerNames(g.Listeners); !reflect.DeepEqual(got, []string{"0.0.0.0_8080"}) {
		t.Errorf("listeners %v, want [0.0.0.0_8080]", got)
	}
}

func TestGenerateSidecar(t *testing.T) {
	s := loadShop(t)
	p := mustProxy(t, s, ProxyInput{Namespace: "shop", Name: "reviews-v1-abc"})
	g, err := s.Generate(p)
	if err != nil {
		t.Fatal(err)
	}

	var clusters []string
	for _, c := range g.Clusters {
		clusters = append(clusters, c.Name)
	}
	for _, want := range []string{
		"outbound|80||" + reviewsHost,
		"outbound|80|v1|" + reviewsHost,
		"outbound|80|v2|" + reviewsHost,
		"inbound|9080||",
	} {
		if !slices.Contains(clusters, want) {
			t.Errorf("no cluster %q in %v", want, clusters)
		}
	}

	var listeners []string
	for _, l := range g.Listeners {
		listeners = append(listeners, l.Name)
	}
	for _, want := range []string{"virtualOutbound", "virtualInbound"} {
		if !slices.Contains(listeners, want) {
			t.Errorf("no listener %q in %v", want, listeners)
		}
	}

	// The v1 subset's endpoints are the pod on its container port.
	var v1 []string
	for _, cla := range g.Endpoints {
		if cla.ClusterName != "outbound|80|v1|"+reviewsHost {
			continue
		}
		for _, le := range cla.Endpoints {
			for _, e := range le.LbEndpoints {
				sa := e.GetEndpoint().GetAddress().GetSocketAddress()
				v1 = append(v1, sa.GetAddress()+":"+itoa(sa.GetPortValue()))
			}
		}
	}
	if !reflect.DeepEqual(v1, []string{"10.0.0.5:9080"}) {
		t.Errorf("v1 endpoints %v", v1)
	}

	// The route of the VirtualService, as JSON the service reads: it names the VS in its metadata
	// and splits 80/20 between the subsets.
	cfg, err := g.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Listeners) != len(g.Listeners) || len(cfg.Clusters) != len(g.Clusters) ||
		len(cfg.Routes) != len(g.Routes) || len(cfg.Endpoints) != len(g.Endpoints) {
		t.Fatalf("JSON lost objects")
	}
	type jsonRoute struct {
		Metadata struct {
			FilterMetadata map[string]map[string]any `json:"filterMetadata"`
		} `json:"metadata"`
		Route struct {
			WeightedClusters struct {
				Clusters []struct {
					Name   string `json:"name"`
					Weight int    `json:"weight"`
				} `json:"clusters"`
			} `json:"weightedClusters"`
		} `json:"route"`
	}
	var rc struct {
		Name         string `json:"name"`
		VirtualHosts []struct {
			Name    string      `json:"name"`
			Domains []string    `json:"domains"`
			Routes  []jsonRoute `json:"routes"`
		} `json:"virtualHosts"`
	}
	found := false
	for _, raw := range cfg.Routes {
		if err := json.Unmarshal(raw, &rc); err != nil {
			t.Fatal(err)
		}
		if rc.Name != "80" {
			continue
		}
		for _, vh := range rc.VirtualHosts {
			if !slices.Contains(vh.Domains, reviewsHost) {
				continue
			}
			found = true
			if vh.Name != reviewsHost+":80" || len(vh.Routes) != 1 {
				t.Fatalf("virtual host %s with %d routes", vh.Name, len(vh.Routes))
			}
			r := vh.Routes[0]
			ref, _ := r.Metadata.FilterMetadata["istio"]["config"].(string)
			if !strings.HasSuffix(ref, "/namespaces/shop/virtual-service/reviews-route") {
				t.Errorf("route metadata istio.config = %q", ref)
			}
			weights := map[string]int{}
			for _, c := range r.Route.WeightedClusters.Clusters {
				weights[c.Name] = c.Weight
			}
			want := map[string]int{"outbound|80|v1|" + reviewsHost: 80, "outbound|80|v2|" + reviewsHost: 20}
			if !reflect.DeepEqual(weights, want) {
				t.Errorf("weights %v, want %v", weights, want)
			}
		}
	}
	if !found {
		t.Errorf("no virtual host for %s in route config 80", reviewsHost)
	}
}

func TestGenerateRouter(t *testing.T) {
	s := loadShop(t)
	p := mustProxy(t, s, ProxyInput{Namespace: "shop", Name: "ingress"})
	g, err := s.Generate(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range g.Listeners {
		if l.Name == "virtualOutbound" || l.Name == "virtualInbound" {
			t.Errorf("router has listener %s", l.Name)
		}
	}
	var clusters []string
	for _, c := range g.Clusters {
		clusters = append(clusters, c.Name)
	}
	if !slices.Contains(clusters, "outbound|80|v1|"+reviewsHost) {
		t.Errorf("router lacks the subset cluster: %v", clusters)
	}
}

func itoa(u uint32) string { return strconv.FormatUint(uint64(u), 10) }

// Endpoints come from istiod's xDS cache, filled by the proxies generated before: each proxy's
// assignments are still the ones istiod's builder makes for it alone (the gateway's and the
// sidecar's differ only where the cache key says so).
func TestEndpointsThroughTheCacheAreEachProxysOwn(t *testing.T) {
	s := loadShop(t)
	push := s.server.PushContext()
	for _, name := range []string{"reviews-v1-abc", "ingress", "edge", "reviews-v1-abc"} {
		p := mustProxy(t, s, ProxyInput{Namespace: "shop", Name: name})
		g, err := s.Generate(p)
		if err != nil {
			t.Fatal(err)
		}
		clusters := xdstest.ExtractEdsClusterNames(g.Clusters)
		if len(g.Endpoints) != len(clusters) || len(g.Endpoints) == 0 {
			t.Fatalf("%s: %d assignments for %d EDS clusters", name, len(g.Endpoints), len(clusters))
		}
		for i, cluster := range clusters {
			builder := endpoints.NewEndpointBuilder(cluster, p, push)
			if own := builder.BuildClusterLoadAssignment(s.server.Discovery.Env.EndpointIndex); !proto.Equal(g.Endpoints[i], own) {
				t.Errorf("%s: %s from the cache differs from its own build:\n%v\n%v", name, cluster, g.Endpoints[i], own)
			}
		}
	}
}
