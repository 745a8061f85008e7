package session

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"

	"istio.io/istio/pilot/pkg/model"
	v3 "istio.io/istio/pilot/pkg/xds/v3"
	"istio.io/istio/pilot/test/xdstest"
	"istio.io/istio/pkg/util/sets"

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
	Endpoints []*endpoint.ClusterLoadAssignment
}

// Packed is a proxy's configuration as istiod's generators return it: the listeners, and the routes
// (by name), clusters and endpoints (in the order of their clusters) as the resources istiod sends,
// each its deterministic proto marshalling (protoconv), shared with other proxies through istiod's
// xDS cache. A compute job hashes those bytes and unpacks only what it sends.
type Packed struct {
	Listeners                   []*listener.Listener
	Routes, Clusters, Endpoints model.Resources
}

// Generate runs istiod's generators (LDS, RDS, CDS, EDS) for the proxy against the snapshot.
func (s *Session) Generate(p *model.Proxy) (*Generated, error) {
	pk, err := s.Pack(p, nil)
	if err != nil {
		return nil, err
	}
	g := &Generated{Listeners: pk.Listeners}
	if g.Routes, err = unpackAll[route.RouteConfiguration](pk.Routes); err != nil {
		return nil, err
	}
	if g.Clusters, err = unpackAll[cluster.Cluster](pk.Clusters); err != nil {
		return nil, err
	}
	if g.Endpoints, err = unpackAll[endpoint.ClusterLoadAssignment](pk.Endpoints); err != nil {
		return nil, err
	}
	return g, nil
}

// Pack runs istiod's generators (LDS, RDS, CDS, EDS) for the proxy against the snapshot, as one push
// of a connecting proxy: RDS for the route names its listeners use, EDS for its EDS clusters. RDS,
// CDS and EDS are the discovery server's own generators, with its xDS cache (the harness's
// ConfigGen has none), and the request carries a start time, as istiod's pushes do, without which
// the cache keeps nothing: what one proxy's generation shares with the next (routes, clusters and
// endpoints of the same SidecarScope dependencies) is built once. The snapshot never changes, so
// nothing cached goes stale. job, when not nil, is the compute job asking: what it read of the
// clusters istiod's cache shares is read once per job (Sent.edsCluster).
func (s *Session) Pack(p *model.Proxy, job *Sent) (pk *Packed, err error) {
	defer recoverFatal(&err)
	req := &model.PushRequest{Push: s.server.PushContext(), Forced: true, Start: time.Now()}
	pk = &Packed{Listeners: s.server.Listeners(p)}
	if pk.Routes, err = s.routes(p, req, pk.Listeners); err != nil {
		return nil, err
	}
	if pk.Clusters, err = s.generate(p, req, &model.WatchedResource{TypeUrl: v3.ClusterType, Wildcard: true}); err != nil {
		return nil, err
	}
	if pk.Endpoints, err = s.endpoints(p, req, pk.Clusters, job); err != nil {
		return nil, err
	}
	return pk, nil
}

// unpackAll is the messages of istiod's resources.
func unpackAll[T any, P interface {
	*T
	proto.Message
}](resources model.Resources) ([]P, error) {
	out := make([]P, 0, len(resources))
	for _, r := range resources {
		m := P(new(T))
		if err := r.Resource.UnmarshalTo(m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// routes is RDS as Envoy asks for it: each route configuration its listeners name, once, by name.
// Envoy subscribes to a set of names; Istio's harness (RoutesFromListeners) passes one name per
// listener that uses it, and istiod builds a name asked twice (the per-pod listeners of a headless
// Service share one) a second time without virtual hosts.
func (s *Session) routes(p *model.Proxy, req *model.PushRequest, listeners []*listener.Listener) (model.Resources, error) {
	w := &model.WatchedResource{TypeUrl: v3.RouteType, ResourceNames: sets.New(xdstest.ExtractRoutesFromListeners(listeners)...)}
	resources, err := s.generate(p, req, w)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(resources, func(a, b *discovery.Resource) int { return strings.Compare(a.Name, b.Name) })
	return resources, nil
}

// endpoints is EDS as Envoy asks for it after CDS: istiod's EDS generator (and its cache) for the
// clusters of type EDS, in the clusters' order.
func (s *Session) endpoints(p *model.Proxy, req *model.PushRequest, clusters model.Resources, job *Sent) (model.Resources, error) {
	names := make([]string, 0, len(clusters))
	for _, c := range clusters {
		name, eds, err := job.edsCluster(c.Resource)
		if err != nil {
			return nil, fmt.Errorf("cluster %s: %w", c.Name, err)
		}
		if eds {
			names = append(names, name)
		}
	}
	resources, err := s.generate(p, req, &model.WatchedResource{TypeUrl: v3.EndpointType, ResourceNames: sets.New(names...)})
	if err != nil {
		return nil, err
	}
	byName := make(map[string]*discovery.Resource, len(resources))
	for _, r := range resources {
		byName[r.Name] = r
	}
	out := make(model.Resources, 0, len(names))
	for _, name := range names {
		if r := byName[name]; r != nil {
			out = append(out, r)
		}
	}
	return out, nil
}

// generate is the resources istiod's generator of the watched type gives the proxy.
func (s *Session) generate(p *model.Proxy, req *model.PushRequest, w *model.WatchedResource) (model.Resources, error) {
	resources, _, err := s.server.Discovery.Generators[w.TypeUrl].Generate(p, w, req)
	return resources, err
}

// The fields of Envoy's Cluster that say whether Envoy asks EDS for it.
var (
	clusterNameField = clusterFields().ByName("name").Number()
	clusterTypeField = clusterFields().ByName("type").Number()
)

func clusterFields() protoreflect.FieldDescriptors {
	return (*cluster.Cluster)(nil).ProtoReflect().Descriptor().Fields()
}

// edsCluster reads a packed Cluster's name and whether Envoy asks EDS for it (its discovery type
// is EDS, as xdstest.ExtractEdsClusterNames decides), without unpacking the rest of it: a compute
// job unpacks only the clusters it sends.
func edsCluster(b []byte) (name string, eds bool, err error) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return "", false, protowire.ParseError(n)
		}
		b = b[n:]
		switch {
		case num == clusterNameField && typ == protowire.BytesType:
			var v []byte
			v, n = protowire.ConsumeBytes(b)
			name = string(v)
		case num == clusterTypeField && typ == protowire.VarintType:
			var v uint64
			v, n = protowire.ConsumeVarint(b)
			eds = v == uint64(cluster.Cluster_EDS)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return "", false, protowire.ParseError(n)
		}
		b = b[n:]
	}
	return name, eds, nil
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
	if out.Endpoints, err = marshalAll(g.Endpoints); err != nil {
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
