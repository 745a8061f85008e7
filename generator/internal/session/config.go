package session

import (
	"encoding/json"
	"slices"
	"sort"
	"time"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/util/protoconv"
	"istio.io/istio/pilot/pkg/xds/endpoints"
	"istio.io/istio/pilot/test/xdstest"

	"github.com/meshlens/meshlens/generator/internal/protocol"
)

// The wire types of this package live in the protocol package with the rest of the
// generator's wire format; these are their names here.
type (
	ProxyConfig = protocol.ProxyConfig
)

// Generated is the same configuration as Envoy protos.
type Generated struct {
	Listeners []*listener.Listener
	Routes    []*route.RouteConfiguration
	Clusters  []*cluster.Cluster
	// endpoints are the EDS resources as istiod's xDS cache holds them, marshalled (Endpoints
	// unmarshals them): every sidecar of a mesh gets the same ClusterLoadAssignments, each holding
	// its Service's pods, so they are built once per session rather than once per proxy, and a
	// compute job's answer hashes their bytes and unmarshals only those it sends.
	endpoints []*discovery.Resource
	// routeBytes and clusterBytes are the routes' and clusters' deterministic proto marshalling as
	// istiod's generators produced it (protoconv), in the order of Routes and Clusters: Hashed
	// hashes them rather than marshalling the objects again.
	routeBytes, clusterBytes [][]byte
}

// Generate runs istiod's generators (LDS, RDS, CDS, EDS) for the proxy against the snapshot.
func (s *Session) Generate(p *model.Proxy) (g *Generated, err error) {
	defer recoverFatal(&err)
	g = &Generated{}
	g.Listeners = s.server.Listeners(p)
	if g.Routes, g.routeBytes, err = s.routes(p, g.Listeners); err != nil {
		return nil, err
	}
	push := s.server.PushContext()
	// As the fake server's Clusters(p) does, keeping istiod's bytes of each.
	clusters, _ := s.server.ConfigGen.BuildClusters(p, &model.PushRequest{Push: push})
	if g.Clusters, g.clusterBytes, err = unmarshalAll[cluster.Cluster](clusters); err != nil {
		return nil, err
	}
	// As the fake server's Endpoints(p) does, but from the clusters already built rather than a
	// second CDS run, and through istiod's xDS cache as its EDS generator goes (its key holds what
	// makes two proxies' assignments of a cluster differ).
	cache := s.server.Discovery.Cache
	request := &model.PushRequest{Push: push, Start: time.Now()}
	for _, name := range xdstest.ExtractEdsClusterNames(g.Clusters) {
		builder := endpoints.NewEndpointBuilder(name, p, push)
		resource := cache.Get(&builder)
		if resource == nil {
			cla := builder.BuildClusterLoadAssignment(s.server.Discovery.Env.EndpointIndex)
			resource = &discovery.Resource{Name: cla.ClusterName, Resource: protoconv.MessageToAny(cla)}
			cache.Add(&builder, request, resource)
		}
		g.endpoints = append(g.endpoints, resource)
	}
	order := make([]int, len(g.Routes))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return g.Routes[order[i]].Name < g.Routes[order[j]].Name })
	routes, routeBytes := make([]*route.RouteConfiguration, len(order)), make([][]byte, len(order))
	for i, k := range order {
		routes[i], routeBytes[i] = g.Routes[k], g.routeBytes[k]
	}
	g.Routes, g.routeBytes = routes, routeBytes
	return g, nil
}

// Endpoints are the EDS ClusterLoadAssignments, unmarshalled from istiod's bytes.
func (g *Generated) Endpoints() ([]*endpoint.ClusterLoadAssignment, error) {
	out, _, err := unmarshalAll[endpoint.ClusterLoadAssignment](g.endpoints)
	return out, err
}

// unmarshalAll is the messages of istiod's resources, and each one's bytes.
func unmarshalAll[T any, P interface {
	*T
	proto.Message
}](resources model.Resources) ([]P, [][]byte, error) {
	out := make([]P, 0, len(resources))
	raw := make([][]byte, 0, len(resources))
	for _, r := range resources {
		m := P(new(T))
		if err := r.Resource.UnmarshalTo(m); err != nil {
			return nil, nil, err
		}
		out = append(out, m)
		raw = append(raw, r.Resource.Value)
	}
	return out, raw, nil
}

// routes is RDS as Envoy asks for it: each route configuration its listeners name, once. Envoy
// subscribes to a set of names; Istio's harness (RoutesFromListeners) passes one name per listener
// that uses it, and istiod builds a name asked twice (the per-pod listeners of a headless Service
// share one) a second time without virtual hosts.
func (s *Session) routes(p *model.Proxy, listeners []*listener.Listener) ([]*route.RouteConfiguration, [][]byte, error) {
	names := xdstest.ExtractRoutesFromListeners(listeners)
	slices.Sort(names)
	resources, _ := s.server.ConfigGen.BuildHTTPRoutes(p, &model.PushRequest{Push: s.server.PushContext()}, slices.Compact(names))
	return unmarshalAll[route.RouteConfiguration](resources)
}

// JSON renders the generated objects the way `istioctl proxy-config ... -o json` does.
func (g *Generated) JSON() (*ProxyConfig, error) {
	out := &ProxyConfig{}
	var err error
	if out.Listeners, err = marshalAll(g.Listeners); err != nil {
		return nil, err
	}
	if out.Routes, err = marshalAll(g.Routes); err != nil {
		return nil, err
	}
	if out.Clusters, err = marshalAll(g.Clusters); err != nil {
		return nil, err
	}
	endpoints, err := g.Endpoints()
	if err != nil {
		return nil, err
	}
	if out.Endpoints, err = marshalAll(endpoints); err != nil {
		return nil, err
	}
	return out, nil
}

func marshalAll[T proto.Message](msgs []T) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, 0, len(msgs))
	for _, m := range msgs {
		b, err := protojson.Marshal(m)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func toStruct(m map[string]any) (*structpb.Struct, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	st := &structpb.Struct{}
	return st, protojson.Unmarshal(b, st)
}
