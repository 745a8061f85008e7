package session

import (
	"strings"
	"testing"

	"github.com/meshlens/meshlens/generator/internal/protocol"
)

// Two namespaces; b's Sidecar imports only b: its proxy depends on nothing of a.
const pushScopeMesh = `
apiVersion: v1
kind: Namespace
metadata: {name: a}
---
apiVersion: v1
kind: Namespace
metadata: {name: b}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: a}
spec: {selector: {app: web}, ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: a, labels: {app: web}}
spec: {containers: [{name: web, image: web}]}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: b}
spec: {selector: {app: db}, ports: [{name: tcp, port: 5432}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db-1, namespace: b, labels: {app: db}}
spec: {containers: [{name: db, image: db}]}
status: {podIP: 10.0.0.2}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: b}
spec: {egress: [{hosts: ["./*"]}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: a}
spec:
  hosts: [web.a.svc.cluster.local]
  http: [{route: [{destination: {host: web.a.svc.cluster.local}}]}]
`

func TestPushScopeFollowsSidecarScopes(t *testing.T) {
	s := mustLoad(t, splitSnapshot(t, pushScopeMesh))
	proxies := []ProxyInput{{Namespace: "a", Name: "web-1"}, {Namespace: "b", Name: "db-1"}}
	ask := func(changed ...protocol.ChangedObject) protocol.PushScopeResult {
		t.Helper()
		out, err := s.PushScope(protocol.PushScopeParams{Changed: changed, Proxies: proxies})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	cases := []struct {
		name     string
		changed  protocol.ChangedObject
		affected []bool
		forced   bool
	}{
		{"a's VirtualService: a only", protocol.ChangedObject{APIVersion: "networking.istio.io/v1", Kind: "VirtualService", Namespace: "a", Name: "web"}, []bool{true, false}, false},
		{"a's Service: a only (b imports only b)", protocol.ChangedObject{APIVersion: "v1", Kind: "Service", Namespace: "a", Name: "web"}, []bool{true, false}, false},
		{"b's pod: its Service's endpoints, both see db", protocol.ChangedObject{APIVersion: "v1", Kind: "Pod", Namespace: "b", Name: "db-1"}, []bool{true, true}, false},
		{"b's Sidecar: b only", protocol.ChangedObject{APIVersion: "networking.istio.io/v1", Kind: "Sidecar", Namespace: "b", Name: "default"}, []bool{false, true}, false},
		{"a ConfigMap outside the root namespace: nobody", protocol.ChangedObject{APIVersion: "v1", Kind: "ConfigMap", Namespace: "a", Name: "settings"}, []bool{false, false}, false},
		{"a Namespace the other session has no fingerprint of: everyone", protocol.ChangedObject{APIVersion: "v1", Kind: "Namespace", Name: "a"}, []bool{true, true}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := ask(c.changed)
			if out.Forced != c.forced {
				t.Errorf("forced = %v, want %v", out.Forced, c.forced)
			}
			for i, want := range c.affected {
				if out.Affected[i] != want {
					t.Errorf("%s/%s affected = %v, want %v (keys %v)", proxies[i].Namespace, proxies[i].Name, out.Affected[i], want, out.Keys)
				}
			}
		})
	}

	// A pod whose endpoints the other snapshot's session derives the same (a new image) changes
	// nobody else's config; its own proxy is its class's business.
	podChange := protocol.ChangedObject{APIVersion: "v1", Kind: "Pod", Namespace: "b", Name: "db-1"}
	first := ask(podChange)
	if first.Fingerprints["Pod/b/db-1"] == "" {
		t.Fatalf("no endpoints fingerprint for b/db-1: %v", first.Fingerprints)
	}
	same, err := s.PushScope(protocol.PushScopeParams{Changed: []protocol.ChangedObject{podChange}, Fingerprints: first.Fingerprints, Proxies: proxies})
	if err != nil {
		t.Fatal(err)
	}
	if same.Affected[0] || same.Affected[1] || len(same.Keys) != 0 {
		t.Errorf("a pod with the same endpoints: affected %v, keys %v; want none", same.Affected, same.Keys)
	}
	other, err := s.PushScope(protocol.PushScopeParams{
		Changed: []protocol.ChangedObject{podChange}, Fingerprints: map[string]string{"Pod/b/db-1": "else"}, Proxies: proxies,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !other.Affected[0] || !other.Affected[1] {
		t.Errorf("a pod with other endpoints: affected %v, want both", other.Affected)
	}

	// A key found by the other snapshot's session (a Service this one does not have) counts too.
	out, err := s.PushScope(protocol.PushScopeParams{
		Keys:    []protocol.ConfigKey{{Kind: "ServiceEntry", Namespace: "b", Name: "cache.b.svc.cluster.local"}},
		Proxies: proxies,
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Affected[0] || out.Affected[1] {
		t.Errorf("a service neither scope has: affected %v, want none", out.Affected)
	}
}

// A Namespace relabelled between two snapshots forces a push exactly when istiod reads what changed:
// an Istio key always, any label once something selects namespaces by label.
func TestPushScopeNamespaceFingerprints(t *testing.T) {
	nsA := "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"
	relabel := func(labels string) string {
		return strings.Replace(pushScopeMesh, nsA, "apiVersion: v1\nkind: Namespace\nmetadata: {name: a, labels: "+labels+"}\n", 1)
	}
	// Every namespace, by a label: what istiod discovers does not change, but the labels are read.
	const discoverySelectors = "discoverySelectors: [{matchExpressions: [{key: excluded, operator: DoesNotExist}]}]\n"
	proxies := []ProxyInput{{Namespace: "a", Name: "web-1"}, {Namespace: "b", Name: "db-1"}}
	change := protocol.ChangedObject{APIVersion: "v1", Kind: "Namespace", Name: "a"}
	load := func(docs, meshConfig string) *Session {
		in := splitSnapshot(t, docs)
		in.MeshConfig = meshConfig
		return mustLoad(t, in)
	}
	cases := []struct {
		name, before, after, meshConfig string
		forced                          bool
	}{
		{"a label nothing selects on: nobody", pushScopeMesh, relabel("{team: x}"), "", false},
		{"an annotation istiod does not read: nobody", pushScopeMesh,
			strings.Replace(pushScopeMesh, nsA, "apiVersion: v1\nkind: Namespace\nmetadata: {name: a, annotations: {owner: x}}\n", 1), "", false},
		{"Istio's own label: everyone", pushScopeMesh, relabel("{istio.io/use-waypoint: w}"), "", true},
		{"any label once the mesh config selects namespaces: everyone", pushScopeMesh, relabel("{team: x}"), discoverySelectors, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before, after := load(c.before, c.meshConfig), load(c.after, c.meshConfig)
			was, err := before.PushScope(protocol.PushScopeParams{Changed: []protocol.ChangedObject{change}, Proxies: []ProxyInput{}})
			if err != nil {
				t.Fatal(err)
			}
			now, err := after.PushScope(protocol.PushScopeParams{Changed: []protocol.ChangedObject{change}, Fingerprints: was.Fingerprints, Proxies: proxies})
			if err != nil {
				t.Fatal(err)
			}
			if now.Forced != c.forced || now.Affected[0] != c.forced || now.Affected[1] != c.forced {
				t.Errorf("forced = %v, affected %v; want %v for both", now.Forced, now.Affected, c.forced)
			}
			back, err := before.PushScope(protocol.PushScopeParams{Changed: []protocol.ChangedObject{change}, Fingerprints: now.Fingerprints, Proxies: proxies})
			if err != nil {
				t.Fatal(err)
			}
			if back.Forced != c.forced {
				t.Errorf("the earlier session: forced = %v, want %v", back.Forced, c.forced)
			}
		})
	}
}
