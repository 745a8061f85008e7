package session

import (
	"slices"
	"testing"

	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/meshlens/meshlens/generator/internal/protocol"
)

func TestHashedSendsEachObjectOnceInTheOrderOfWriting(t *testing.T) {
	s := loadShop(t)
	p, err := s.Proxy(ProxyInput{Namespace: "shop", Name: "reviews-v1-abc"})
	if err != nil {
		t.Fatal(err)
	}
	pk, err := s.Pack(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.Generate(p)
	if err != nil {
		t.Fatal(err)
	}
	objects := len(g.Listeners) + len(g.Routes) + len(g.Clusters) + len(g.Endpoints)
	sent := NewSent()
	// Two answers built before either is written: the first marshals everything, the second takes
	// that JSON; the one written first sends it, the other names it.
	first, err := pk.Hashed(Describe(p), sent)
	if err != nil {
		t.Fatal(err)
	}
	second, err := pk.Hashed(Describe(p), sent)
	if err != nil {
		t.Fatal(err)
	}
	refs := func(a *JobAnswer) (withJSON int, refs []int) {
		for _, list := range [][]JobObject{a.Listeners, a.Routes, a.Clusters, a.Endpoints} {
			for _, o := range list {
				refs = append(refs, o.Ref)
				if o.Object != nil {
					withJSON++
				}
			}
		}
		return withJSON, refs
	}
	if len(first.answer.Clusters) == 0 || &first.answer.Clusters[0].Object[0] != &second.answer.Clusters[0].Object[0] {
		t.Error("the second answer marshalled again what the first had")
	}
	// The second built but written first: its objects are numbered 0, 1, 2, … as it lists them.
	w2, r2 := refs(second.Commit())
	w1, r1 := refs(first.Commit())
	if w2 != objects || len(r2) != objects || w1 != 0 || !slices.Equal(r1, r2) {
		t.Errorf("%d objects: first answer written sent %d, refs %v; second %d, refs %v; want all, then none by the same refs", objects, w2, r2, w1, r1)
	}
	for i, ref := range r2 {
		if ref != i {
			t.Fatalf("the first answer's object %d has ref %d", i, ref)
		}
	}
	if len(sent.marshalled) != 0 {
		t.Errorf("%d objects' JSON still held once sent", len(sent.marshalled))
	}
	// Built after: nothing marshalled at all.
	third, err := pk.Hashed(Describe(p), sent)
	if err != nil {
		t.Fatal(err)
	}
	if w, _ := refs(&third.answer); w != 0 {
		t.Errorf("an answer built after the objects were sent marshalled %d of them", w)
	}

	// The JSON sent is proxyConfig's, canonical, under the object's name; equal messages hash
	// equal, different ones differently.
	plain, err := g.JSON()
	if err != nil {
		t.Fatal(err)
	}
	fresh, _ := pk.Hashed(Describe(p), NewSent())
	answer := fresh.Commit()
	for i, o := range answer.Clusters {
		want, err := protocol.AppendCanonical(nil, plain.Clusters[i])
		if err != nil {
			t.Fatal(err)
		}
		if string(o.Object) != string(want) || o.Name != g.Clusters[i].GetName() {
			t.Errorf("cluster %d: %s %s, want %s %s", i, o.Name, o.Object, g.Clusters[i].GetName(), want)
		}
	}
	for i, o := range answer.Endpoints {
		if o.Name != g.Endpoints[i].GetClusterName() {
			t.Errorf("endpoint %d: named %q, want its cluster %q", i, o.Name, g.Endpoints[i].GetClusterName())
		}
	}
	c := g.Clusters[0]
	h1, _, _ := objectHash("t", c, nil)
	h2, _, _ := objectHash("t", proto.Clone(c), nil)
	other := proto.Clone(c)
	if err := protojson.Unmarshal([]byte(`{"name":"changed"}`), other); err != nil {
		t.Fatal(err)
	}
	h3, _, _ := objectHash("t", other, nil)
	h4, _, _ := objectHash("u", c, nil)
	if h1 != h2 || h1 == h3 || h1 == h4 {
		t.Errorf("hashes: clone equal %v, changed differs %v, other type differs %v", h1 == h2, h1 != h3, h1 != h4)
	}
}

// TestVirtualHostsSortLast: marshalRouteConfiguration closes a route configuration's canonical
// JSON with its virtual hosts, which is right only while no other field's JSON name sorts after
// theirs (canonical JSON's order: UTF-16 code units, byte order for these ASCII names).
func TestVirtualHostsSortLast(t *testing.T) {
	fields := (*route.RouteConfiguration)(nil).ProtoReflect().Descriptor().Fields()
	for i := range fields.Len() {
		if name := fields.Get(i).JSONName(); name > virtualHostsField.JSONName() {
			t.Errorf("RouteConfiguration's field %s sorts after %s", name, virtualHostsField.JSONName())
		}
	}
}
