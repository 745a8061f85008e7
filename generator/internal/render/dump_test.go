package render

import (
	"encoding/json"
	"testing"
	"time"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"

	"istio.io/istio/pkg/util/protomarshal"

	"github.com/meshlens/meshlens/generator/internal/protocol"
)

// dumpText is the config dump's text for a generated config.
func dumpText(t *testing.T, cfg *Config) []byte {
	t.Helper()
	return built(t, cfg, (*Dump).JSON)
}

// built is what `out` gives of the dump Build assembles for a generated config.
func built(t *testing.T, cfg *Config, out func(*Dump) ([]byte, error)) []byte {
	t.Helper()
	d, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := out(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The one config dump has the sections of Envoy's admin ConfigDump in the order Istio's debug
// endpoint builds them, each typed, with istiod's resources as its dynamic entries. (These are the
// assertions the TypeScript dump of src/proxy-config/views.ts had, on the dump that replaced it:
// clusters, listeners, routes and endpoints keep their relative order; Istio puts the endpoints of
// include_eds right after the clusters, and adds the bootstrap, scoped routes and secrets.)
func TestConfigDumpShape(t *testing.T) {
	cfg := readConfig(t, "istioinaction-webapp.config.json")
	text := dumpText(t, cfg)
	var dump struct {
		Configs []map[string]any `json:"configs"`
	}
	if err := json.Unmarshal(text, &dump); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, c := range dump.Configs {
		types = append(types, c["@type"].(string))
	}
	want := []string{
		protocol.TypeBootstrapConfigDump, protocol.TypeClustersConfigDump, protocol.TypeEndpointsConfigDump,
		protocol.TypeListenersConfigDump, protocol.TypeScopedRoutesConfDump, protocol.TypeRoutesConfigDump, protocol.TypeSecretsConfigDump,
	}
	if len(types) != len(want) {
		t.Fatalf("sections %v, want %v", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("sections %v, want %v", types, want)
		}
	}
	clusters, endpoints, listeners, routes := dump.Configs[1], dump.Configs[2], dump.Configs[3], dump.Configs[5]
	if clusters["versionInfo"] != "1.31.0" {
		t.Errorf("clusters versionInfo %v", clusters["versionInfo"])
	}
	dynamic := clusters["dynamicActiveClusters"].([]any)
	if len(dynamic) != len(cfg.Clusters) {
		t.Errorf("%d dynamic clusters, want %d", len(dynamic), len(cfg.Clusters))
	}
	// Sorted by name: istiod's order varies between calls, a stored config has none.
	for i := 1; i < len(dynamic); i++ {
		if dynamic[i-1].(map[string]any)["cluster"].(map[string]any)["name"].(string) > dynamic[i].(map[string]any)["cluster"].(map[string]any)["name"].(string) {
			t.Errorf("dynamic clusters not sorted by name at %d", i)
		}
	}
	first := dynamic[0].(map[string]any)
	cluster := first["cluster"].(map[string]any)
	if first["versionInfo"] != "1.31.0" || cluster["@type"] != protocol.TypeCluster || cluster["name"] != "BlackHoleCluster" {
		t.Errorf("first dynamic cluster %v", first)
	}
	if _, err := time.Parse(time.RFC3339, first["lastUpdated"].(string)); err != nil {
		t.Errorf("lastUpdated: %v", err)
	}
	var listener map[string]any
	for _, l := range listeners["dynamicListeners"].([]any) {
		if l.(map[string]any)["name"] == "0.0.0.0_80" {
			listener = l.(map[string]any)
		}
	}
	if listener == nil {
		t.Fatal("no dynamic listener 0.0.0.0_80")
	}
	active := listener["activeState"].(map[string]any)
	if listener["name"] != "0.0.0.0_80" || active["versionInfo"] != "1.31.0" ||
		active["listener"].(map[string]any)["@type"] != protocol.TypeListener || active["listener"].(map[string]any)["name"] != "0.0.0.0_80" {
		t.Errorf("first dynamic listener %v", listener)
	}
	route := routes["dynamicRouteConfigs"].([]any)[0].(map[string]any)["routeConfig"].(map[string]any)
	if route["@type"] != protocol.TypeRouteConfiguration || route["name"] == nil {
		t.Errorf("first dynamic route configuration %v", route)
	}
	cla := endpoints["dynamicEndpointConfigs"].([]any)[0].(map[string]any)["endpointConfig"].(map[string]any)
	if cla["@type"] != protocol.TypeClusterLoadAssign || cla["clusterName"] == nil {
		t.Errorf("first dynamic endpoints %v", cla)
	}
	// The objects themselves are untouched.
	var raw map[string]any
	_ = json.Unmarshal(cfg.Clusters[0], &raw)
	if _, ok := raw["@type"]; ok {
		t.Error("the input cluster got an @type")
	}
	// Every section is the admin message it says it is.
	typedDump := &adminv3.ConfigDump{}
	if err := protomarshal.Unmarshal(text, typedDump); err != nil {
		t.Fatalf("not an envoy.admin.v3.ConfigDump: %v", err)
	}
	if len(typedDump.Configs) != len(want) {
		t.Errorf("%d typed sections", len(typedDump.Configs))
	}
}

func TestConfigDumpEmpty(t *testing.T) {
	text := dumpText(t, &Config{Proxy: Proxy{Namespace: "default", IstioVersion: "v"}})
	var dump struct {
		Configs []map[string]json.RawMessage `json:"configs"`
	}
	if err := json.Unmarshal(text, &dump); err != nil {
		t.Fatal(err)
	}
	// An empty config gives empty lists, not missing keys.
	for _, c := range []struct {
		section int
		key     string
	}{{1, "dynamicActiveClusters"}, {2, "dynamicEndpointConfigs"}, {3, "dynamicListeners"}, {5, "dynamicRouteConfigs"}} {
		if got := string(dump.Configs[c.section][c.key]); got != "[]" {
			t.Errorf("%s: %s, want []", c.key, got)
		}
	}
}

// The text is what JavaScript writes for the same value, so GraphQL's JSON scalar serves the same bytes.
func TestJSNumbers(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":2.147483647e+09,"b":"1e+06","c":[1e-07,0.5,1.0,-3e+21,12]}`: `{"a":2147483647,"b":"1e+06","c":[1e-7,0.5,1,-3e+21,12]}`,
		`{"s":"x\"2.0e+1\\","n":2.0e+1}`:                                  `{"s":"x\"2.0e+1\\","n":20}`,
		`[1,2,3]`:                                                         `[1,2,3]`,
	} {
		if got := string(protocol.JSNumbers([]byte(in))); got != want {
			t.Errorf("%s: got %s, want %s", in, got, want)
		}
	}
}
