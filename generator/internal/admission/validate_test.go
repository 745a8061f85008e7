package admission

import (
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func validate(t *testing.T, doc string) Result {
	t.Helper()
	raw, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	result, err := Validate(raw)
	if err != nil {
		t.Fatal(err)
	}
	return result
}

// What the old npm schemas refused and a cluster running the embedded release accepts.
func TestValidateAccepts(t *testing.T) {
	for name, doc := range map[string]string{
		"HTTPRedirect.prefixRewrite": `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: r, namespace: default}
spec:
  hosts: [web]
  http:
  - redirect: {prefixRewrite: /new}
`,
		"AuthorizationPolicy source.trustDomains": `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: a, namespace: default}
spec:
  rules:
  - from:
    - source: {trustDomains: [td1], notTrustDomains: [td2]}
`,
		"unknown fields under status": `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: d, namespace: default}
spec: {host: web}
status: {anything: [1, 2], observedGeneration: 3}
`,
		"EnvoyFilter patch match: null": `
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: e, namespace: default}
spec:
  configPatches:
  - applyTo: NETWORK_FILTER
    match: null
    patch:
      operation: MERGE
      value: {name: envoy.filters.network.http_connection_manager}
`,
		"Gateway API HTTPRoute": `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: h, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{name: web, port: 80}]
`,
		"kind of no known group": `
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: c}
spec: {whatever: 1}
`,
	} {
		t.Run(name, func(t *testing.T) {
			if got := validate(t, doc); len(got.Errors) > 0 {
				t.Errorf("refused: %+v", got.Errors)
			}
		})
	}
}

func TestValidateRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		doc     string
		path    []any
		message string
	}{
		"unknown field": {`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: r, namespace: default}
spec:
  hosts: [web]
  http:
  - htpp: {}
    route: [{destination: {host: web}}]
`, []any{"spec", "http", 0, "htpp"}, `unknown field "spec.http[0].htpp"`},
		"wrong type": {`
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: d, namespace: default}
spec: {host: [web]}
`, []any{"spec", "host"}, "must be of type string"},
		"CRD CEL rule": {`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: r, namespace: default}
spec:
  hosts: [web]
  http:
  - route: [{destination: {host: web}}]
    timeout: 5x
`, []any{"spec", "http", 0, "timeout"}, "timeout"},
		"Istio's webhook": {`
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: r, namespace: default}
spec:
  hosts: [web]
  http:
  - match: [{uri: {regex: "("}}]
    route: [{destination: {host: web}}]
`, []any{"spec"}, `admission webhook "validation.istio.io" denied the request`},
		"version not served": {`
apiVersion: networking.istio.io/v2
kind: VirtualService
metadata: {name: r, namespace: default}
spec: {}
`, []any{"apiVersion"}, `no matches for kind "VirtualService" in version "networking.istio.io/v2"`},
		"Gateway API schema": {`
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: h, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{name: web, port: 70000}]
`, []any{"spec", "rules", 0, "backendRefs", 0, "port"}, "less than or equal to 65535"},
	} {
		t.Run(name, func(t *testing.T) {
			got := validate(t, tc.doc)
			if len(got.Errors) == 0 {
				t.Fatal("accepted")
			}
			for _, e := range got.Errors {
				if reflect.DeepEqual(e.Path, tc.path) && strings.Contains(e.Message, tc.message) {
					return
				}
			}
			t.Errorf("errors %+v, want one at %v saying %q", got.Errors, tc.path, tc.message)
		})
	}
}

func TestValidateWebhookWarnings(t *testing.T) {
	got := validate(t, `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: g, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["*"]
    tls: {mode: SIMPLE, credentialName: cert, httpsRedirect: true}
`)
	if len(got.Errors) > 0 || len(got.Warnings) == 0 || !strings.Contains(strings.Join(got.Warnings, "\n"), "httpsRedirect") {
		t.Errorf("got %+v, want accepted with the httpsRedirect warning", got)
	}
}
