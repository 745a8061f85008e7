package admission

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// The Gateway API's CRDs embedded are those of the module version go.mod pins, experimental
// channel. UPDATE_CRDS=1 rewrites the copy after a version change.
func TestGatewayAPICRDsMatchModule(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api").Output()
	if err != nil {
		t.Fatalf("locating sigs.k8s.io/gateway-api in the module cache: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "experimental")
	kustomization, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(kustomization, &k); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	for _, file := range k.Resources {
		content, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		want.WriteString("---\n")
		want.Write(content)
	}
	if os.Getenv("UPDATE_CRDS") == "1" {
		if err := os.WriteFile("gateway-api-crds.yaml", want.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(want.Bytes(), gatewayAPICRDs) {
		t.Fatalf("gateway-api-crds.yaml differs from %s: run UPDATE_CRDS=1 go test ./internal/admission -run TestGatewayAPICRDsMatchModule", dir)
	}
}

// Every kind meshlens evaluates from Istio's and the Gateway API's groups has a schema.
func TestRegistryServesKinds(t *testing.T) {
	r, err := crds()
	if err != nil {
		t.Fatal(err)
	}
	for _, gvk := range []string{
		"networking.istio.io/v1 VirtualService", "networking.istio.io/v1alpha3 EnvoyFilter", "security.istio.io/v1 AuthorizationPolicy",
		"telemetry.istio.io/v1 Telemetry", "extensions.istio.io/v1alpha1 WasmPlugin",
		"gateway.networking.k8s.io/v1 HTTPRoute", "gateway.networking.k8s.io/v1 Gateway",
	} {
		apiVersion, kind, _ := strings.Cut(gvk, " ")
		if r.byGVK[gvkOf(map[string]any{"apiVersion": apiVersion, "kind": kind})] == nil {
			t.Errorf("no schema for %s", gvk)
		}
	}
}
