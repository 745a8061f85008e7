package session

import (
	"slices"
	"testing"
)

// A headless Service with a port of undeclared protocol gets one listener per pod address, all naming the same route configuration:
// it is generated once, with its virtual hosts, and Istio's simulation routes a call to a pod by it.
func TestSimulateHeadlessService(t *testing.T) {
	s := mustLoad(t, splitSnapshot(t, `
apiVersion: v1
kind: Service
metadata: {name: db, namespace: alpha}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{name: web, port: 7070, targetPort: 7070, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: db-1, namespace: alpha, labels: {kubernetes.io/service-name: db}}
addressType: IPv4
ports: [{name: web, port: 7070, protocol: TCP}]
endpoints:
- {addresses: [10.1.0.10], conditions: {ready: true}}
- {addresses: [10.1.0.11], conditions: {ready: true}}
`))
	p := mustProxy(t, s, ProxyInput{Namespace: "beta", Labels: map[string]string{"app": "client"}, IP: "10.1.0.20"})
	g, err := s.Generate(p)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, rc := range g.Routes {
		names = append(names, rc.Name)
	}
	if len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Fatalf("route configurations named twice: %v", names)
	}
	got, err := s.Simulate(p, []SimulationCall{{Mode: "OUTBOUND", Address: "10.1.0.11", Port: 7070, Protocol: "HTTP", TLS: "PLAINTEXT", Host: "db.alpha"}})
	if err != nil {
		t.Fatal(err)
	}
	want := SimulationResult{
		Listener: "10.1.0.11_7070", RouteConfig: "db.alpha.svc.cluster.local:7070", VirtualHost: "db.alpha.svc.cluster.local:7070",
		Route: "default", Cluster: "outbound|7070||db.alpha.svc.cluster.local",
	}
	if got[0] != want {
		t.Fatalf("simulation %+v, want %+v", got[0], want)
	}
}
