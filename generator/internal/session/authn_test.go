package session

import (
	"reflect"
	"testing"
)

// TestMeshAndPeerAuthentication: the mesh config's trust domain and root namespace as Istio applies
// its defaults, and a workload's PeerAuthentication as istiod merges it (mesh, namespace, workload,
// port level), naming the deciding policy.
func TestMeshAndPeerAuthentication(t *testing.T) {
	in := splitSnapshot(t, shopSnapshot+`
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: mesh, namespace: corp-root}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: reviews, namespace: shop}
spec:
  selector: {matchLabels: {app: reviews}}
  portLevelMtls:
    9080: {mode: DISABLE}
    9090: {mode: UNSET}
`)
	in.ProxyTypes = map[string]string{"shop/ingress": "ROUTER", "shop/batch": "NONE"}
	in.Kinds = map[string]string{"shop/edge": "Deployment"}
	in.MeshConfig = "trustDomain: corp.example\nrootNamespace: corp-root\n"
	s := mustLoad(t, in)

	if got, want := s.Mesh(), (MeshIdentity{TrustDomain: "corp.example", TrustDomainAliases: []string{}, RootNamespace: "corp-root"}); !reflect.DeepEqual(got, want) {
		t.Errorf("Mesh() = %+v, want %+v", got, want)
	}

	got := s.PeerAuthentication(mustProxy(t, s, ProxyInput{Namespace: "shop", Name: "reviews-v1-abc"}))
	mesh := &ObjectRef{Kind: "PeerAuthentication", Namespace: "corp-root", Name: "mesh"}
	workload := &ObjectRef{Kind: "PeerAuthentication", Namespace: "shop", Name: "reviews"}
	want := PeerAuthn{
		// The workload policy sets no mode: the mesh-wide STRICT is inherited.
		Mode:               "STRICT",
		PeerAuthentication: mesh,
		Ports: map[string]PortMTLS{
			"9080": {Mode: "DISABLE", PeerAuthentication: workload},
			// UNSET at port level inherits the workload's mode, decided by the mesh policy.
			"9090": {Mode: "STRICT", PeerAuthentication: mesh},
		},
		Policies:      []ObjectRef{*mesh, *workload},
		RootNamespace: "corp-root",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PeerAuthentication(reviews) =\n%+v\nwant\n%+v", got, want)
	}

	edge := s.PeerAuthentication(mustProxy(t, s, ProxyInput{Namespace: "shop", Name: "edge"}))
	if edge.Mode != "STRICT" || !reflect.DeepEqual(edge.PeerAuthentication, mesh) || len(edge.Ports) != 0 {
		t.Errorf("PeerAuthentication(edge) = %+v, want the mesh policy's STRICT", edge)
	}

	kinds := map[string]string{}
	for _, p := range s.Proxies(nil) {
		kinds[p.Namespace+"/"+p.Name] = p.Kind
	}
	if kinds["shop/edge"] != "Deployment" || kinds["shop/reviews-v1-abc"] != "Pod" {
		t.Errorf("Proxies kinds = %v, want edge Deployment (from Kinds), others Pod", kinds)
	}
}
