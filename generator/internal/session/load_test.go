package session

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestLoadDiagnostics(t *testing.T) {
	in := splitSnapshot(t, shopSnapshot+`
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: negative-weight
  namespace: shop
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v1
      weight: -10
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: no-hosts
  namespace: shop
spec:
  hosts:
  - ""
  http:
  - route:
    - destination:
        host: reviews
`)
	in.Kubernetes = append(in.Kubernetes,
		json.RawMessage(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"broken","namespace":"shop"},"spec":{"ports":"not-a-list"}}`))
	in.MeshConfig = "defaultConfig: [this is: not, a mesh"
	s := mustLoad(t, in)

	for _, c := range []struct{ kind, name, level, text string }{
		{"VirtualService", "negative-weight", "Error", "rejected by Istio's validation"},
		{"VirtualService", "no-hosts", "Error", "rejected by Istio's validation"},
		{"Service", "broken", "Warning", "not loaded into the registry"},
		{"ConfigMap", "istio", "Error", "Istio's defaults used instead"},
	} {
		d := findDiagnostic(s.Diagnostics, c.kind, c.name)
		if d == nil {
			t.Errorf("no diagnostic for %s %s in %+v", c.kind, c.name, s.Diagnostics)
			continue
		}
		if d.Level != c.level || !strings.Contains(d.Message, c.text) {
			t.Errorf("%s %s: %+v, want level %s and %q", c.kind, c.name, *d, c.level, c.text)
		}
		if c.kind != "ConfigMap" && d.Namespace != "shop" {
			t.Errorf("%s %s: namespace %q", c.kind, c.name, d.Namespace)
		}
	}
	if len(s.Diagnostics) != 4 {
		t.Errorf("diagnostics: %+v", s.Diagnostics)
	}
	if s.mesh.GetRootNamespace() != "istio-system" || s.mesh.GetOutboundTrafficPolicy().GetMode().String() != "ALLOW_ANY" {
		t.Errorf("mesh config is not Istio's default: %v", s.mesh)
	}

	// The session still answers, with the rejected objects left out: the valid VirtualService
	// still routes, the broken Service is absent.
	p := mustProxy(t, s, ProxyInput{Namespace: "shop", Name: "reviews-v1-abc"})
	g, err := s.Generate(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range g.Clusters {
		if strings.Contains(c.Name, "broken.shop") {
			t.Errorf("undecodable Service made cluster %s", c.Name)
		}
	}
	routes := 0
	for _, rc := range g.Routes {
		for _, vh := range rc.VirtualHosts {
			for _, r := range vh.Routes {
				if cfg := r.GetMetadata().GetFilterMetadata()["istio"].GetFields()["config"].GetStringValue(); cfg != "" {
					if !strings.HasSuffix(cfg, "/reviews-route") {
						t.Errorf("route from rejected config %s", cfg)
					}
					routes++
				}
			}
		}
	}
	if routes == 0 {
		t.Errorf("the valid VirtualService made no route")
	}
}

func TestLoadMeshConfig(t *testing.T) {
	in := splitSnapshot(t, shopSnapshot)
	in.MeshConfig = "outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n"
	s := mustLoad(t, in)
	if len(s.Diagnostics) != 0 {
		t.Fatalf("diagnostics %+v", s.Diagnostics)
	}
	if got := s.mesh.GetOutboundTrafficPolicy().GetMode().String(); got != "REGISTRY_ONLY" {
		t.Errorf("outbound policy %s", got)
	}
	if s.mesh.GetRootNamespace() != "istio-system" {
		t.Errorf("defaults not applied: root namespace %q", s.mesh.GetRootNamespace())
	}
}

func TestAnalyze(t *testing.T) {
	t.Run("missing subset", func(t *testing.T) {
		in := splitSnapshot(t, shopSnapshot+`
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: to-v3
  namespace: shop
spec:
  hosts:
  - reviews.shop.svc.cluster.local
  http:
  - route:
    - destination:
        host: reviews.shop.svc.cluster.local
        subset: v3
`)
		s := mustLoad(t, in)
		msgs, err := s.Analyze()
		if err != nil {
			t.Fatal(err)
		}
		var hit *Message
		for i := range msgs {
			if msgs[i].Code == "IST0101" && msgs[i].Name == "to-v3" {
				hit = &msgs[i]
			}
		}
		if hit == nil {
			t.Fatalf("no IST0101 for to-v3 in %+v", msgs)
		}
		if hit.Level != "Error" || hit.Kind != "VirtualService" || hit.Namespace != "shop" ||
			!strings.Contains(hit.Message, "v3") || !strings.Contains(hit.Text, "IST0101") {
			t.Errorf("message %+v", *hit)
		}
		if !strings.Contains(hit.Origin, "VirtualService") || !strings.Contains(hit.Origin, "to-v3") {
			t.Errorf("origin %q", hit.Origin)
		}
	})

	t.Run("asked again: the same answer, the objects as sent released", func(t *testing.T) {
		s := mustLoad(t, splitSnapshot(t, shopSnapshot))
		first, err := s.Analyze()
		if err != nil {
			t.Fatal(err)
		}
		if s.input.Kubernetes != nil || s.input.Istio != nil || s.input.Analysis != nil {
			t.Errorf("the session still holds the snapshot's objects as sent after Analyze")
		}
		again, err := s.Analyze()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(first, again) {
			t.Errorf("second Analyze =\n %+v\nwant\n %+v", again, first)
		}
		// Pods are read back from the registry once the objects as sent are gone.
		if p := mustProxy(t, s, ProxyInput{Namespace: "shop", Name: "reviews-v1-abc"}); p.Metadata.ServiceAccount != "reviews" {
			t.Errorf("service account %q", p.Metadata.ServiceAccount)
		}
	})

	t.Run("pods reach the analyzers", func(t *testing.T) {
		// The shop's DestinationRule has a subset v2 and no pod of version v2: only an analyzer that
		// sees the pods, as on a live cluster, says so, and nothing else is wrong.
		s := loadShop(t)
		msgs, err := s.Analyze()
		if err != nil {
			t.Fatal(err)
		}
		var errors []string
		for _, m := range msgs {
			if m.Level == "Error" {
				errors = append(errors, m.Text)
			}
		}
		want := "Error [IST0173] (DestinationRule shop/reviews) The Subset v2 defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream)."
		if len(errors) != 1 || errors[0] != want {
			t.Errorf("errors %q, want only %q", errors, want)
		}
	})
}
