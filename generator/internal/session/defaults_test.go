package session

import (
	"slices"
	"testing"
)

// Services without targetPort or protocol reach Istio as the API server stores them: targetPort
// is the port, protocol TCP. Without the defaults the gateway's listener is 0.0.0.0_0 and the
// sidecar's inbound cluster inbound|0||.
const defaultsSnapshot = `
apiVersion: v1
kind: Service
metadata: {name: ingressgateway, namespace: istio-system}
spec:
  clusterIP: 10.96.0.20
  selector: {istio: ingressgateway}
  ports:
  - {name: http2, port: 80}
---
apiVersion: v1
kind: Pod
metadata:
  name: ingressgateway-abc
  namespace: istio-system
  labels: {istio: ingressgateway}
spec:
  containers:
  - name: istio-proxy
    image: istio/proxyv2
    args: [proxy, router]
status: {phase: Running, podIP: 10.0.0.20}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: web, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  clusterIP: 10.96.0.21
  selector: {app: web}
  ports:
  - {name: http, port: 8080}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-abc
  namespace: default
  labels: {app: web}
spec:
  containers:
  - {name: web, image: web}
  - {name: istio-proxy, image: istio/proxyv2}
status: {phase: Running, podIP: 10.0.0.21}
`

func TestServiceDefaults(t *testing.T) {
	s := mustLoad(t, splitSnapshot(t, defaultsSnapshot))

	gateway, err := s.Generate(mustProxy(t, s, ProxyInput{Namespace: "istio-system", Name: "ingressgateway-abc"}))
	if err != nil {
		t.Fatal(err)
	}
	var listeners []string
	for _, l := range gateway.Listeners {
		listeners = append(listeners, l.Name)
	}
	if !slices.Contains(listeners, "0.0.0.0_80") {
		t.Errorf("gateway listeners %v, want 0.0.0.0_80", listeners)
	}

	sidecar, err := s.Generate(mustProxy(t, s, ProxyInput{Namespace: "default", Name: "web-abc"}))
	if err != nil {
		t.Fatal(err)
	}
	var clusters []string
	for _, c := range sidecar.Clusters {
		clusters = append(clusters, c.Name)
	}
	if !slices.Contains(clusters, "inbound|8080||") {
		t.Errorf("sidecar clusters %v, want inbound|8080||", clusters)
	}
}
