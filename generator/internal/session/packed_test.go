package session

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/xds/endpoints"
	"istio.io/istio/pilot/test/xdstest"

	"github.com/meshlens/meshlens/generator/internal/protocol"
)

// unpackedConfig is a proxy's config as the session generated it before Pack: every object
// regenerated per proxy (no start time in the push request, so istiod's xDS cache kept nothing),
// unpacked, endpoints built without the cache, and each object's hash and proto3 JSON as Hashed
// computed them then. It is the reference of TestPackedIsTheUnpackedConfig.
type unpackedConfig struct {
	generated *Generated
	hashes    [4][]string
	json      [4][]string
}

func unpackedGenerate(t *testing.T, s *Session, p *model.Proxy) unpackedConfig {
	t.Helper()
	push := s.server.PushContext()
	g := &Generated{Listeners: s.server.Listeners(p)}
	names := xdstest.ExtractRoutesFromListeners(g.Listeners)
	slices.Sort(names)
	routeResources, _ := s.server.ConfigGen.BuildHTTPRoutes(p, &model.PushRequest{Push: push}, slices.Compact(names))
	clusterResources, _ := s.server.ConfigGen.BuildClusters(p, &model.PushRequest{Push: push})
	routes, routeBytes := mustUnpack[route.RouteConfiguration](t, routeResources)
	clusters, clusterBytes := mustUnpack[cluster.Cluster](t, clusterResources)
	order := make([]int, len(routes))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return routes[order[i]].Name < routes[order[j]].Name })
	sortedBytes := make([][]byte, len(order))
	for i, k := range order {
		g.Routes = append(g.Routes, routes[k])
		sortedBytes[i] = routeBytes[k]
	}
	g.Clusters = clusters
	for _, name := range xdstest.ExtractEdsClusterNames(g.Clusters) {
		builder := endpoints.NewEndpointBuilder(name, p, push)
		g.Endpoints = append(g.Endpoints, builder.BuildClusterLoadAssignment(s.server.Discovery.Env.EndpointIndex))
	}

	var out unpackedConfig
	out.generated = g
	add := func(i int, typeURL string, m proto.Message, raw []byte) {
		hash := bytesHash(typeURL, raw)
		if raw == nil {
			var err error
			if hash, _, err = objectHash(typeURL, m, nil); err != nil {
				t.Fatal(err)
			}
		}
		b, err := protojson.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if b, err = protocol.AppendCanonical(nil, b); err != nil {
			t.Fatal(err)
		}
		out.hashes[i] = append(out.hashes[i], hex.EncodeToString(hash[:]))
		out.json[i] = append(out.json[i], string(b))
	}
	for _, m := range g.Listeners {
		add(0, protocol.TypeListener, m, nil)
	}
	for k, m := range g.Routes {
		add(1, protocol.TypeRouteConfiguration, m, sortedBytes[k])
	}
	for k, m := range g.Clusters {
		add(2, protocol.TypeCluster, m, clusterBytes[k])
	}
	for _, m := range g.Endpoints {
		add(3, protocol.TypeClusterLoadAssign, m, nil)
	}
	return out
}

func mustUnpack[T any, P interface {
	*T
	proto.Message
}](t *testing.T, resources model.Resources) ([]P, [][]byte) {
	t.Helper()
	out, err := unpackAll[T, P](resources)
	if err != nil {
		t.Fatal(err)
	}
	raw := make([][]byte, 0, len(resources))
	for _, r := range resources {
		raw = append(raw, r.Resource.Value)
	}
	return out, raw
}

// TestPackedIsTheUnpackedConfig is the differential test of Pack (istiod's xDS cache across proxies,
// its EDS generator, objects hashed from istiod's bytes and unpacked only to be sent): for every
// proxy of each mesh, every object of every type has the hash and the JSON the session produced
// before, and Generate the same messages; asked one proxy after another and then all at once, as
// a compute job asks them. MESHLENS_FLOOR_INPUT adds the bench mesh (every class).
func TestPackedIsTheUnpackedConfig(t *testing.T) {
	type mesh struct {
		name    string
		s       *Session
		proxies []ProxyInput
	}
	shop := loadShop(t)
	meshes := []mesh{{"shop", shop, []ProxyInput{
		{Namespace: "shop", Name: "reviews-v1-abc"}, {Namespace: "shop", Name: "ingress"}, {Namespace: "shop", Name: "edge"},
		{Namespace: "shop", Labels: map[string]string{"app": "other"}},
	}}}
	for seed := range uint64(3) {
		s := mustLoad(t, splitSnapshot(t, randomMesh(seed)))
		if len(s.Diagnostics) != 0 {
			t.Fatalf("random mesh %d has diagnostics: %+v", seed, s.Diagnostics)
		}
		var proxies []ProxyInput
		for _, name := range s.PodNames() {
			ns, pod := splitKey(name)
			proxies = append(proxies, ProxyInput{Namespace: ns, Name: pod})
		}
		meshes = append(meshes, mesh{fmt.Sprintf("random %d", seed), s, proxies})
	}
	if bench := benchMesh(t); bench != nil {
		meshes = append(meshes, *bench)
	}
	for _, m := range meshes {
		t.Run(m.name, func(t *testing.T) {
			proxies := make([]*model.Proxy, len(m.proxies))
			want := make([]unpackedConfig, len(m.proxies))
			for i, in := range m.proxies {
				proxies[i] = mustProxy(t, m.s, in)
				want[i] = unpackedGenerate(t, m.s, proxies[i])
			}
			// compare checks proxy i's answer in the job of sent: every object's hash, and the JSON
			// of those it carries, each the first time in the job (all of them in a new job).
			compare := func(i int, sent *Sent, fresh bool) {
				pk, err := m.s.Pack(proxies[i], sent)
				if err != nil {
					t.Error(err)
					return
				}
				h, err := pk.Hashed(Describe(proxies[i]), sent)
				if err != nil {
					t.Error(err)
					return
				}
				got := h.Commit()
				lists := [4][]JobObject{got.Listeners, got.Routes, got.Clusters, got.Endpoints}
				for k, list := range lists {
					jsonOf := make(map[string]string, len(list))
					for j, hash := range want[i].hashes[k] {
						jsonOf[hash] = want[i].json[k][j]
					}
					gotObjects := make([]string, len(list))
					carried := map[string]bool{}
					for j, o := range list {
						hash := hex.EncodeToString(h.hashes[k][j][:])
						gotObjects[j] = hash
						if fresh && o.Object == nil && !carried[hash] {
							t.Errorf("%s/%s list %d object %s: sent without its JSON in a new job", m.proxies[i].Namespace, m.proxies[i].Name, k, hash)
						}
						carried[hash] = carried[hash] || o.Object != nil
						if o.Object != nil && string(o.Object) != jsonOf[hash] {
							t.Errorf("%s/%s list %d object %s: %.300s, want %.300s", m.proxies[i].Namespace, m.proxies[i].Name, k, hash, o.Object, jsonOf[hash])
						}
					}
					wantObjects := slices.Clone(want[i].hashes[k])
					if k == 0 || k == 2 {
						// istiod orders listeners and inbound clusters differently from one call to
						// the next (Go map iteration; the previous path too, called twice): those
						// are compared as sets.
						slices.Sort(gotObjects)
						slices.Sort(wantObjects)
					}
					if len(gotObjects) != len(wantObjects) {
						t.Errorf("%s/%s list %d: %d objects, want %d", m.proxies[i].Namespace, m.proxies[i].Name, k, len(gotObjects), len(wantObjects))
						continue
					}
					for j := range gotObjects {
						if gotObjects[j] != wantObjects[j] {
							t.Errorf("%s/%s list %d object %d: %.300s, want %.300s", m.proxies[i].Namespace, m.proxies[i].Name, k, j, gotObjects[j], wantObjects[j])
						}
					}
				}
				g, err := m.s.Generate(proxies[i])
				if err != nil {
					t.Error(err)
					return
				}
				listenersByName := func(a, b *listener.Listener) int { return strings.Compare(a.Name, b.Name) }
				slices.SortFunc(g.Listeners, listenersByName)
				slices.SortFunc(want[i].generated.Listeners, listenersByName)
				clustersByName := func(a, b *cluster.Cluster) int { return strings.Compare(a.Name, b.Name) }
				slices.SortFunc(g.Clusters, clustersByName)
				slices.SortFunc(want[i].generated.Clusters, clustersByName)
				if !equalAll(g.Listeners, want[i].generated.Listeners) || !equalAll(g.Routes, want[i].generated.Routes) ||
					!equalAll(g.Clusters, want[i].generated.Clusters) || !equalAll(g.Endpoints, want[i].generated.Endpoints) {
					t.Errorf("%s/%s: Generate differs from the unpacked config", m.proxies[i].Namespace, m.proxies[i].Name)
				}
			}
			m.s.server.Discovery.Cache.ClearAll()
			for i := range proxies {
				compare(i, NewSent(), true)
			}
			m.s.server.Discovery.Cache.ClearAll()
			var wg sync.WaitGroup
			for i := range proxies {
				wg.Go(func() { compare(i, NewSent(), true) })
			}
			wg.Wait()
			// One compute job: its objects hashed once each, from istiod's cache.
			m.s.server.Discovery.Cache.ClearAll()
			job := NewSent()
			for i := range proxies {
				wg.Go(func() { compare(i, job, false) })
			}
			wg.Wait()
			named := 0
			for i := range proxies {
				for _, hashes := range want[i].hashes {
					for _, hash := range hashes {
						var h ObjectHash
						if _, err := hex.Decode(h[:], []byte(hash)); err != nil {
							t.Fatal(err)
						}
						if _, ok := job.refs[h]; !ok {
							t.Errorf("%s/%s: object %s named, never sent in the job", m.proxies[i].Namespace, m.proxies[i].Name, hash)
						}
						named++
					}
				}
			}
			t.Logf("one job: %d objects named, %d sent, %d packed resources hashed", named, len(job.refs), len(job.packed))
		})
	}
}

func equalAll[T proto.Message](a, b []T) bool {
	return slices.EqualFunc(a, b, func(x, y T) bool { return proto.Equal(x, y) })
}

// benchMesh is the bench mesh of MESHLENS_FLOOR_INPUT with its class representatives, or nil.
func benchMesh(t *testing.T) *struct {
	name    string
	s       *Session
	proxies []ProxyInput
} {
	in, ok := readFloorInput(t)
	if !ok {
		return nil
	}
	return &struct {
		name    string
		s       *Session
		proxies []ProxyInput
	}{"bench", mustLoad(t, in.Load), in.Proxies}
}

// randomMesh is a mesh of a few namespaces whose Services, pods (with their EndpointSlices),
// VirtualServices, DestinationRules, Sidecars, ServiceEntries and a Gateway with its router are
// drawn from the seed: what makes istiod's clusters, routes and endpoints differ between proxies.
func randomMesh(seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 13))
	var b strings.Builder
	doc := func(format string, args ...any) {
		fmt.Fprintf(&b, "---\n"+format+"\n", args...)
	}
	namespaces := 2 + r.IntN(3)
	ip := 0
	for n := range namespaces {
		ns := fmt.Sprintf("ns%d", n)
		doc("apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}", ns)
		if r.IntN(3) == 0 {
			doc("apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default, namespace: %s}\nspec: {egress: [{hosts: [\"./*\", \"istio-system/*\"]}]}", ns)
		}
		for svc := range 2 + r.IntN(4) {
			name := fmt.Sprintf("svc%d", svc)
			port := 80 + r.IntN(3)
			proto := []string{"http", "grpc", "tcp"}[r.IntN(3)]
			headless := ""
			if r.IntN(6) == 0 {
				headless = "clusterIP: None, "
			}
			doc("apiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: %s}\nspec: {%sselector: {app: %s}, ports: [{name: %s, port: %d, targetPort: 8080}]}",
				name, ns, headless, name, proto, port)
			var addresses []string
			for v := range 1 + r.IntN(3) {
				ip++
				addr := fmt.Sprintf("10.%d.%d.%d", 1+n, ip/250, 1+ip%250)
				addresses = append(addresses, addr)
				doc("apiVersion: v1\nkind: Pod\nmetadata: {name: %s-v%d, namespace: %s, labels: {app: %s, version: v%d}}\nspec: {serviceAccountName: %s, nodeName: node%d, containers: [{name: app, image: app, ports: [{containerPort: 8080}]}]}\nstatus: {phase: Running, podIP: %s, podIPs: [{ip: %s}], conditions: [{type: Ready, status: \"True\"}]}",
					name, v, ns, name, v%2, name, r.IntN(3), addr, addr)
			}
			var eps []string
			for i, addr := range addresses {
				eps = append(eps, fmt.Sprintf("{addresses: [%s], conditions: {ready: true}, targetRef: {kind: Pod, name: %s-v%d, namespace: %s}}", addr, name, i, ns))
			}
			doc("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: %s-1, namespace: %s, labels: {kubernetes.io/service-name: %s}}\naddressType: IPv4\nendpoints: [%s]\nports: [{name: %s, port: 8080, protocol: TCP}]",
				name, ns, name, strings.Join(eps, ", "), proto)
			host := fmt.Sprintf("%s.%s.svc.cluster.local", name, ns)
			if r.IntN(2) == 0 {
				policy := []string{
					"{loadBalancer: {simple: LEAST_REQUEST}}",
					"{connectionPool: {http: {http1MaxPendingRequests: 10}}, outlierDetection: {consecutive5xxErrors: 3}}",
					"{tls: {mode: ISTIO_MUTUAL}}",
				}[r.IntN(3)]
				doc("apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: %s, namespace: %s}\nspec: {host: %s, trafficPolicy: %s, subsets: [{name: v0, labels: {version: v0}}, {name: v1, labels: {version: v1}}]}",
					name, ns, host, policy)
				if proto == "http" && r.IntN(2) == 0 {
					w := r.IntN(101)
					doc("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: %s, namespace: %s}\nspec: {hosts: [%s], http: [{match: [{uri: {prefix: /v1}}], route: [{destination: {host: %s, subset: v1}}]}, {route: [{destination: {host: %s, subset: v0}, weight: %d}, {destination: {host: %s, subset: v1}, weight: %d}]}]}",
						name, ns, host, host, host, w, host, 100-w)
				}
			}
		}
		if r.IntN(2) == 0 {
			resolution := []string{"DNS", "STATIC", "NONE"}[r.IntN(3)]
			endpoints := ""
			if resolution == "STATIC" {
				endpoints = ", endpoints: [{address: 192.168.0.1}]"
			}
			doc("apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: ext, namespace: %s}\nspec: {hosts: [ext%d.example.com], ports: [{number: 443, name: tls, protocol: TLS}], resolution: %s, location: MESH_EXTERNAL%s}",
				ns, n, resolution, endpoints)
		}
	}
	doc("apiVersion: v1\nkind: Pod\nmetadata: {name: ingress, namespace: ns0, labels: {istio: ingressgateway}}\nspec: {containers: [{name: istio-proxy, image: proxyv2, args: [proxy, router]}]}\nstatus: {phase: Running, podIP: 10.0.255.1}")
	doc("apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: web, namespace: ns0}\nspec: {selector: {istio: ingressgateway}, servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [\"*/*\"]}]}")
	doc("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: ingress, namespace: ns0}\nspec: {hosts: [\"*\"], gateways: [web], http: [{route: [{destination: {host: svc0.ns0.svc.cluster.local}}]}]}")
	return b.String()
}
