package session

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"istio.io/istio/pkg/test/util/yml"
)

func TestMain(m *testing.M) {
	if err := QuietLogs(); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// splitSnapshot splits multi-document YAML into the snapshot's two lists, as the service does:
// objects of an `*.istio.io` API group are Istio's, everything else is Kubernetes'.
func splitSnapshot(t *testing.T, docs string) Input {
	t.Helper()
	in := Input{Kubernetes: []json.RawMessage{}, Istio: []json.RawMessage{}}
	for _, doc := range yml.SplitString(docs) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		raw, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatalf("snapshot YAML: %v\n%s", err, doc)
		}
		if string(raw) == "null" {
			continue
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			t.Fatal(err)
		}
		group, _, _ := strings.Cut(head.APIVersion, "/")
		if strings.HasSuffix(group, ".istio.io") {
			in.Istio = append(in.Istio, raw)
		} else {
			in.Kubernetes = append(in.Kubernetes, raw)
		}
	}
	return in
}

// mustLoad loads a snapshot and closes its session when the test ends.
func mustLoad(t *testing.T, in Input) *Session {
	t.Helper()
	s, err := Load(in)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func findDiagnostic(ds []Diagnostic, kind, name string) *Diagnostic {
	for i := range ds {
		if ds[i].Kind == kind && ds[i].Name == name {
			return &ds[i]
		}
	}
	return nil
}
