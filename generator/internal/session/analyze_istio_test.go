package session

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"text/template"

	"sigs.k8s.io/yaml"

	meshv1alpha1 "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/analysis/analyzers"
	"istio.io/istio/pkg/config/analysis/local"
	"istio.io/istio/pkg/config/mesh"
	"istio.io/istio/pkg/config/schema/collections"
	"istio.io/istio/pkg/test/util/yml"
)

// analyzerCase is one case of Istio's own analyzer tests: its input files and mesh config.
type analyzerCase struct {
	name         string
	inputs       []string
	meshConfig   string
	meshNetworks string
}

// TestAnalyzeAsIstio runs, on the inputs of every case of Istio's own analyzer tests (read from the
// module cache, pkg/config/analysis/analyzers/analyzers_test.go and its testdata) plus one invalid
// object of each Istio kind, Istio's analyzer harness (every analyzer, the objects as files with
// their runtime resources, as Istio's tests load them) and meshlens's session (the same objects as a
// snapshot hands them to the generator: Secrets without their values), and requires the same
// messages. Every analyzer of the combined set must report in at least one case, except notCovered.
func TestAnalyzeAsIstio(t *testing.T) {
	dir := filepath.Join(istioModuleDir(t), "pkg", "config", "analysis", "analyzers")
	cases := istioAnalyzerCases(t, filepath.Join(dir, "analyzers_test.go"))
	if len(cases) < 50 {
		t.Fatalf("only %d cases read from Istio's analyzer tests", len(cases))
	}
	cases = append(cases, analyzerCase{name: "invalid object of each Istio kind"})
	reported := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			objects := caseObjects(t, dir, tc)
			want, byAnalyzer := istioHarness(t, objects, tc, dir)
			for name, msgs := range byAnalyzer {
				if len(msgs) > 0 {
					reported[name] = true
				}
			}
			got := meshlensSession(t, objects)
			if d := diffMessages(want, got); d != "" {
				t.Errorf("messages differ from Istio's (- Istio, + meshlens):\n%s", d)
			}
			for _, m := range got {
				if m.Text != fmt.Sprintf("%s [%s] (%s) %s", m.Level, m.Code, m.Origin, m.Message) {
					t.Errorf("text %q is not istioctl's line for %+v", m.Text, m)
				}
			}
		})
	}
	var missing []string
	for _, a := range analyzers.All() {
		name := a.Metadata().Name
		if !reported[name] && !notCovered[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		t.Errorf("analyzers no case made report: %v", missing)
	}
}

// notCovered: analyzers no case makes report. Inconsistent Services across clusters: a snapshot is
// one cluster. The validation of the mesh config and meshNetworks themselves: no case of Istio's has
// an invalid one, and meshlens's Load reports a mesh config Istio refuses before analysis.
var notCovered = map[string]bool{
	"services.MultiClusterServiceAnalyzer":   true,
	"schema.ValidationAnalyzer.MeshConfig":   true,
	"schema.ValidationAnalyzer.MeshNetworks": true,
}

func istioModuleDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "istio.io/istio").Output()
	if err != nil {
		t.Fatalf("locating istio.io/istio: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// istioAnalyzerCases reads the cases of Istio's testGrid from its source: the string fields
// inputFiles, meshConfigFile and meshNetworksFile of each case.
func istioAnalyzerCases(t *testing.T, file string) []analyzerCase {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var cases []analyzerCase
	ast.Inspect(f, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok || len(spec.Names) != 1 || spec.Names[0].Name != "testGrid" {
			return true
		}
		for _, elt := range spec.Values[0].(*ast.CompositeLit).Elts {
			var tc analyzerCase
			for _, field := range elt.(*ast.CompositeLit).Elts {
				kv := field.(*ast.KeyValueExpr)
				switch kv.Key.(*ast.Ident).Name {
				case "name":
					tc.name = stringLit(t, kv.Value)
				case "meshConfigFile":
					tc.meshConfig = stringLit(t, kv.Value)
				case "meshNetworksFile":
					tc.meshNetworks = stringLit(t, kv.Value)
				case "inputFiles":
					for _, v := range kv.Value.(*ast.CompositeLit).Elts {
						tc.inputs = append(tc.inputs, stringLit(t, v))
					}
				}
			}
			cases = append(cases, tc)
		}
		return false
	})
	return cases
}

func stringLit(t *testing.T, e ast.Expr) string {
	t.Helper()
	s, err := strconv.Unquote(e.(*ast.BasicLit).Value)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// caseObjects are the case's objects as a cluster's API server holds them: namespaced objects
// without a namespace in "default", and the mesh config and meshNetworks in ConfigMap
// istio-system/istio, where istiod and istioctl read them.
func caseObjects(t *testing.T, dir string, tc analyzerCase) []map[string]any {
	t.Helper()
	var docs []string
	for _, file := range tc.inputs {
		text, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, yml.SplitString(string(text))...)
	}
	if tc.inputs == nil {
		docs = invalidIstioObjects()
	}
	docs = append(docs, istioDefaultResources(t, dir, tc)...)
	var objects []map[string]any
	for _, doc := range docs {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for _, obj := range listItems(obj) {
			objects = append(objects, asStored(obj))
		}
	}
	if tc.meshConfig != "" || tc.meshNetworks != "" {
		// An installed Istio's ConfigMap always has the mesh key, which istioctl reads first.
		data := map[string]any{"mesh": ""}
		for key, file := range map[string]string{"mesh": tc.meshConfig, "meshNetworks": tc.meshNetworks} {
			if file == "" {
				continue
			}
			text, err := os.ReadFile(filepath.Join(dir, file))
			if err != nil {
				t.Fatal(err)
			}
			data[key] = string(text)
		}
		objects = append(objects, map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "istio", "namespace": "istio-system"},
			"data":     data,
		})
	}
	return objects
}

// istioDefaultResources are the ingress gateway Service and Pod Istio's harness adds to every case
// (local.AddDefaultResources), read from Istio's source: given to both sides as objects of the case.
func istioDefaultResources(t *testing.T, dir string, tc analyzerCase) []string {
	t.Helper()
	meshConfig := mesh.DefaultMeshConfig()
	if tc.meshConfig != "" {
		text, err := os.ReadFile(filepath.Join(dir, tc.meshConfig))
		if err != nil {
			t.Fatal(err)
		}
		if meshConfig, err = mesh.ApplyMeshConfigDefaults(string(text)); err != nil {
			t.Fatal(err)
		}
	}
	if meshConfig.GetIngressControllerMode() == meshv1alpha1.MeshConfig_OFF {
		return nil
	}
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, "..", "local", "defaults.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	obj := f.Scope.Lookup("defaultIstioIngressGateway")
	if obj == nil {
		t.Fatal("defaultIstioIngressGateway not found in Istio's local/defaults.go")
	}
	tmpl := template.Must(template.New("defaults").Parse(stringLit(t, obj.Decl.(*ast.ValueSpec).Values[0])))
	var out bytes.Buffer
	if err := tmpl.Execute(&out, map[string]string{"namespace": "istio-system", "ingressService": meshConfig.GetIngressService()}); err != nil {
		t.Fatal(err)
	}
	return yml.SplitString(out.String())
}

// listItems flattens Kubernetes Lists, nested ones included, as ingest does.
func listItems(obj map[string]any) []map[string]any {
	if obj == nil {
		return nil
	}
	items, ok := obj["items"].([]any)
	if kind, _ := obj["kind"].(string); !ok || !strings.HasSuffix(kind, "List") {
		return []map[string]any{obj}
	}
	var out []map[string]any
	for _, item := range items {
		if m, ok := item.(map[string]any); ok {
			out = append(out, listItems(m)...)
		}
	}
	return out
}

// asStored puts a namespaced object without a namespace in "default", as the API server does.
func asStored(obj map[string]any) map[string]any {
	meta, _ := obj["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		obj["metadata"] = meta
	}
	if ns, _ := meta["namespace"].(string); ns == "" && !clusterScoped(obj) {
		meta["namespace"] = "default"
	}
	return obj
}

func clusterScoped(obj map[string]any) bool {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	group, version, found := strings.Cut(apiVersion, "/")
	if !found {
		group, version = "", apiVersion
	}
	s, ok := collections.All.FindByGroupVersionAliasesKind(config.GroupVersionKind{Group: group, Version: version, Kind: kind})
	return ok && s.IsClusterScoped()
}

// invalidIstioObjects: one object of each Istio kind that Istio's validation rejects.
func invalidIstioObjects() []string {
	var docs []string
	for _, s := range collections.Istio.All() {
		if s.IsSynthetic() {
			continue
		}
		docs = append(docs, fmt.Sprintf(`apiVersion: %s
kind: %s
metadata:
  name: invalid
  namespace: default
spec:
  selector: {matchLabels: {"": ""}}
  workloadSelector: {labels: {"": ""}}
`, s.APIVersion(), s.Kind()))
	}
	return docs
}

// istioHarness runs Istio's analyzers as Istio's own tests do (setupAnalyzerForCase), over all
// the analyzers, without the default ingress gateway a files-only run adds (a cluster holding
// these objects has none).
func istioHarness(t *testing.T, objects []map[string]any, tc analyzerCase, dir string) ([]Message, map[string][]Message) {
	t.Helper()
	sa := local.NewSourceAnalyzer(analyzers.AllCombined(), "", "istio-system", nil)
	if tc.meshConfig != "" {
		if err := sa.AddFileKubeMeshConfig(filepath.Join(dir, tc.meshConfig)); err != nil {
			t.Fatal(err)
		}
	}
	if tc.meshNetworks != "" {
		if err := sa.AddFileKubeMeshNetworks(filepath.Join(dir, tc.meshNetworks)); err != nil {
			t.Fatal(err)
		}
	}
	var readers []local.ReaderSource
	for i, obj := range objects {
		text, err := yaml.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		readers = append(readers, local.ReaderSource{Name: fmt.Sprintf("object-%d.yaml", i), Reader: bytes.NewReader(text)})
	}
	if err := sa.AddTestReaderKubeSource(readers); err != nil {
		t.Logf("Istio's harness left objects out: %v", err)
	}
	cancel := make(chan struct{})
	defer close(cancel)
	result, err := sa.Analyze(cancel)
	if err != nil {
		t.Fatal(err)
	}
	byAnalyzer := map[string][]Message{}
	for name, msgs := range result.MappedMessages {
		byAnalyzer[name] = messagesOf(msgs)
	}
	return messagesOf(result.Messages), byAnalyzer
}

// meshlensSession loads the objects as the service hands a snapshot to the generator, Secrets
// stored as ingest stores them, and analyzes them.
func meshlensSession(t *testing.T, objects []map[string]any) []Message {
	t.Helper()
	in := Input{Kubernetes: []json.RawMessage{}, Istio: []json.RawMessage{}}
	for _, obj := range objects {
		if obj["kind"] == "Secret" {
			obj = storedSecret(t, obj)
		}
		raw, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		apiVersion, _ := obj["apiVersion"].(string)
		group, _, _ := strings.Cut(apiVersion, "/")
		switch {
		case strings.HasSuffix(group, ".istio.io") || group == "gateway.networking.k8s.io":
			in.Istio = append(in.Istio, raw)
		case obj["kind"] == "ConfigMap" || obj["kind"] == "Pod" || obj["kind"] == "Service" || obj["kind"] == "Namespace":
			in.Kubernetes = append(in.Kubernetes, raw)
		default:
			in.Analysis = append(in.Analysis, raw)
		}
		if meta, _ := obj["metadata"].(map[string]any); obj["kind"] == "ConfigMap" && meta["name"] == "istio" {
			data, _ := obj["data"].(map[string]any)
			in.MeshConfig, _ = data["mesh"].(string)
		}
	}
	s := mustLoad(t, in)
	msgs, err := s.Analyze()
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// storedSecret is a Secret as ingest stores it (src/ingest): type, key names with empty
// values, the multicluster label, and the facts checked before the values were dropped.
func storedSecret(t *testing.T, secret map[string]any) map[string]any {
	t.Helper()
	meta, _ := secret["metadata"].(map[string]any)
	values := map[string]string{}
	if data, ok := secret["data"].(map[string]any); ok {
		for k, v := range data {
			s, _ := v.(string)
			values[k] = s
		}
	}
	if data, ok := secret["stringData"].(map[string]any); ok {
		for k, v := range data {
			s, _ := v.(string)
			values[k] = base64.StdEncoding.EncodeToString([]byte(s))
		}
	}
	facts := secretFacts{Certificates: map[string]*[]validity{}}
	keys := map[string]any{}
	for k, v := range values {
		keys[k] = ""
		decoded, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			t.Fatalf("secret %v key %s: %v", meta["name"], k, err)
		}
		if len(decoded) == 0 {
			facts.EmptyKeys = append(facts.EmptyKeys, k)
			continue
		}
		if k != "cert" && k != "tls.crt" {
			continue
		}
		var windows *[]validity
		if block, _ := pem.Decode(decoded); block != nil {
			if certs, err := x509.ParseCertificates(block.Bytes); err == nil {
				w := []validity{}
				for _, c := range certs {
					w = append(w, validity{NotBefore: c.NotBefore, NotAfter: c.NotAfter})
				}
				windows = &w
			}
		}
		facts.Certificates[k] = windows
	}
	sort.Strings(facts.EmptyKeys)
	factsJSON, err := json.Marshal(facts)
	if err != nil {
		t.Fatal(err)
	}
	storedMeta := map[string]any{"name": meta["name"], "namespace": meta["namespace"],
		"annotations": map[string]any{SecretFactsAnnotation: string(factsJSON)}}
	if labels, ok := meta["labels"].(map[string]any); ok {
		if v, ok := labels["istio/multiCluster"]; ok {
			storedMeta["labels"] = map[string]any{"istio/multiCluster": v}
		}
	}
	stored := map[string]any{"apiVersion": secret["apiVersion"], "kind": "Secret", "metadata": storedMeta, "data": keys}
	if typ, ok := secret["type"]; ok {
		stored["type"] = typ
	}
	return stored
}

// orderDependent: messages whose text Istio builds in Go map order, so that it differs from one
// run of Istio's own harness to the next (the resources an analyzer's ForEach visits a second time
// come from a map; which of a VirtualService's conflicting hosts is reported first, the order of the
// RequestAuthentications listed, which unknown field of an EnvoyFilter patch is named). Only their
// code, level and resource are compared.
func orderDependent(m Message) bool {
	return m.Code == "IST0109" || m.Code == "IST0175" || (m.Code == "IST0133" && m.Kind == "EnvoyFilter")
}

// diffMessages lists the messages only one side has.
func diffMessages(want, got []Message) string {
	key := func(m Message) string {
		text := m.Message
		if orderDependent(m) {
			text = "(text in Go map order)"
		}
		return strings.Join([]string{m.Level, m.Code, m.Kind, m.Namespace, m.Name, m.Origin, text}, " | ")
	}
	// As sets: Istio's harness keeps messages that differ only by the file line of the field
	// (Referenced host not found, twice in one VirtualService), which istioctl prints once for a
	// live cluster, where objects have no file.
	side := map[string]int{}
	for _, m := range want {
		side[key(m)] |= 1
	}
	for _, m := range got {
		side[key(m)] |= 2
	}
	var lines []string
	for k, n := range side {
		switch n {
		case 1:
			lines = append(lines, "- "+k)
		case 2:
			lines = append(lines, "+ "+k)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
