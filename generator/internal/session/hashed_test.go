package session

import (
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

func TestHashedSendsEachObjectOnceInTheOrderOfWriting(t *testing.T) {
	s := loadShop(t)
	p, err := s.Proxy(ProxyInput{Namespace: "shop", Name: "reviews-v1-abc"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.Generate(p)
	if err != nil {
		t.Fatal(err)
	}
	objects := len(g.Listeners) + len(g.Routes) + len(g.Clusters) + len(g.endpoints)
	sent := NewSent()
	// Two answers built before either is written: both marshal everything; the one written first
	// sends it, the other names it.
	first, err := g.Hashed(Describe(p), sent)
	if err != nil {
		t.Fatal(err)
	}
	second, err := g.Hashed(Describe(p), sent)
	if err != nil {
		t.Fatal(err)
	}
	count := func(r HashedProxyConfig) (withJSON, all int) {
		for _, list := range [][]HashedObject{r.Listeners, r.Routes, r.Clusters, r.Endpoints} {
			for _, o := range list {
				all++
				if o.Object != nil {
					withJSON++
				}
			}
		}
		return withJSON, all
	}
	w1, a1 := count(*first.Commit().HashedProxyConfig)
	w2, a2 := count(*second.Commit().HashedProxyConfig)
	if w1 != objects || a1 != objects || w2 != 0 || a2 != objects {
		t.Errorf("%d objects: first answer sent %d of %d, second %d of %d; want all, then none", objects, w1, a1, w2, a2)
	}
	// Built after: nothing marshalled at all.
	third, err := g.Hashed(Describe(p), sent)
	if err != nil {
		t.Fatal(err)
	}
	if w, _ := count(third.config); w != 0 {
		t.Errorf("an answer built after the objects were sent marshalled %d of them", w)
	}

	// The JSON sent is proxyConfig's; equal messages hash equal, different ones differently.
	plain, err := g.JSON()
	if err != nil {
		t.Fatal(err)
	}
	fresh, _ := g.Hashed(Describe(p), NewSent())
	for i, o := range fresh.Commit().Clusters {
		if string(o.Object) != string(plain.Clusters[i]) {
			t.Errorf("cluster %d: %s, want %s", i, o.Object, plain.Clusters[i])
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
