package render

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

func readConfig(t *testing.T, name string) *Config {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

func render(t *testing.T, p Params) string {
	t.Helper()
	r, err := Render(p)
	if err != nil {
		t.Fatalf("render %s: %v", p.View, err)
	}
	return r.Output
}

func golden(t *testing.T, file, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", file)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s ./internal/render -update)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n got:\n%s\nwant:\n%s", file, got, want)
	}
}

// istioctl's own testdata, rendered through this package from the same config dumps, gives
// istioctl's own expected output byte for byte: the pipeline adds nothing and loses nothing.
func TestIstioctlTestdata(t *testing.T) {
	dump := func(name string) json.RawMessage {
		b, err := os.ReadFile(filepath.Join("testdata", "istioctl", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	want := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", "istioctl", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cases := []struct {
		name, dump, view, want string
		flags                  Flags
	}{
		{"gateway routes", "istio-gateway-http-route-prefix.configdump.json", "route", "istio-gateway-http-route-prefix.route.txt", Flags{}},
		{"k8s gateway routes", "k8s-gateway-http-route-path-prefix.configdump.json", "route", "k8s-gateway-http-route-path-prefix.route.txt", Flags{}},
		{"eds", "endpoint.configdump.json", "eds", "endpoint.eds.txt", Flags{}},
		{"eds --port 8080", "endpoint.configdump.json", "eds", "endpoint.eds-port8080.txt", Flags{Port: 8080}},
		{"all", "proxyconfig.configdump.json", "all", "proxyconfig.all.txt", Flags{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := render(t, Params{View: c.view, ConfigDump: dump(c.dump), Flags: c.flags})
			if w := want(c.want); got != w {
				t.Errorf("got:\n%q\nwant:\n%q", got, w)
			}
		})
	}
}

// The seed scenario's gateway and sidecar, every view, against golden files.
func TestScenarioGolden(t *testing.T) {
	for _, proxy := range []string{"istioinaction-gateway", "istioinaction-webapp"} {
		cfg := readConfig(t, proxy+".config.json")
		views := []struct {
			file  string
			view  string
			flags Flags
		}{
			{"cluster.txt", "cluster", Flags{}},
			{"listener.txt", "listener", Flags{}},
			{"route.txt", "route", Flags{}},
			{"endpoint.txt", "endpoint", Flags{}},
			{"eds.txt", "eds", Flags{}},
			{"all.txt", "all", Flags{}},
			{"bootstrap.txt", "bootstrap", Flags{}},
			{"cluster-fqdn-catalog-outbound.txt", "cluster", Flags{FQDN: "catalog", Direction: "outbound"}},
			{"listener-port-15006.txt", "listener", Flags{Port: 15006}},
			{"listener-short.txt", "listener", Flags{Verbose: new(bool)}},
			{"route-short.txt", "route", Flags{Verbose: new(bool)}},
			{"route-json.json", "route", Flags{Output: "json", Name: "80"}},
		}
		for _, v := range views {
			t.Run(proxy+"/"+v.file, func(t *testing.T) {
				golden(t, proxy+"."+v.file, render(t, Params{View: v.view, Config: cfg, Flags: v.flags}))
			})
		}
	}
}

func TestDumpHasWhatIstioctlParses(t *testing.T) {
	d, err := Build(readConfig(t, "istioinaction-webapp.config.json"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.JSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, section := range []string{"BootstrapConfigDump", "ClustersConfigDump", "EndpointsConfigDump", "ListenersConfigDump", "RoutesConfigDump", "SecretsConfigDump"} {
		if !strings.Contains(string(b), "envoy.admin.v3."+section) {
			t.Errorf("the dump has no %s", section)
		}
	}
	names := map[string]bool{}
	for _, c := range d.StaticClusters {
		var h clusterHead
		_ = json.Unmarshal(c, &h)
		names[h.Name] = true
	}
	for _, n := range []string{"agent", "prometheus_stats", "sds-grpc", "xds-grpc"} {
		if !names[n] {
			t.Errorf("bootstrap static cluster %s missing (have %v)", n, names)
		}
	}
	if len(d.StaticListeners) != 2 {
		t.Errorf("want the bootstrap's 15090 and 15021 listeners, got %d static listeners", len(d.StaticListeners))
	}
	// all -o json is the dump itself.
	out := render(t, Params{View: "all", Config: readConfig(t, "istioinaction-webapp.config.json"), Flags: Flags{Output: "json"}})
	if strings.TrimSpace(out) != strings.TrimSpace(string(b)) {
		t.Error("all -o json is not the config dump")
	}
}

// Each view of a proxy's config, built from the part of it the view reads (readBy), is the view
// of the whole config: the same config dump output for every format, with and without the flags
// that select, and for the endpoint view (Envoy's /clusters) the same clusters.
func TestViewsReadTheirPartOnly(t *testing.T) {
	for _, proxy := range []string{"istioinaction-gateway", "istioinaction-webapp"} {
		cfg := readConfig(t, proxy+".config.json")
		whole := dumpText(t, cfg)
		for _, view := range []string{"listener", "route", "cluster", "eds", "bootstrap", "all"} {
			for _, flags := range []Flags{
				{}, {Output: "json"}, {Output: "yaml"}, {Verbose: new(bool)},
				{Port: 8080}, {FQDN: "catalog", Direction: "outbound"}, {Name: "80"}, {Type: "HTTP"},
			} {
				t.Run(fmt.Sprintf("%s/%s/%+v", proxy, view, flags), func(t *testing.T) {
					got := render(t, Params{View: view, Config: cfg, Flags: flags})
					want := render(t, Params{View: view, ConfigDump: whole, Flags: flags})
					if got != want {
						t.Errorf("built from its part:\n%s\nfrom the whole dump:\n%s", got, want)
					}
				})
			}
		}
		t.Run(proxy+"/endpoint", func(t *testing.T) {
			got, want := built(t, readBy("endpoint", cfg), (*Dump).AdminClusters), built(t, cfg, (*Dump).AdminClusters)
			if string(got) != string(want) {
				t.Errorf("Envoy's /clusters built from its part:\n%s\nfrom the whole config:\n%s", got, want)
			}
		})
	}
}

func TestProxyStatus(t *testing.T) {
	gw, sc := readConfig(t, "istioinaction-gateway.config.json"), readConfig(t, "istioinaction-webapp.config.json")
	// The types the service works out from these configs (test/unit/envoy/subscribed-types.test.ts).
	types := []string{"CDS", "LDS", "EDS", "RDS"}
	proxies := []StatusProxy{
		{ID: sc.Proxy.ID, Namespace: sc.Proxy.Namespace, IstioVersion: "1.31.0", Types: types},
		{ID: gw.Proxy.ID, Namespace: gw.Proxy.Namespace, IstioVersion: "1.31.0", Types: types},
		{ID: "bare.default", Namespace: "default", IstioVersion: "1.30.2", Types: []string{}},
	}
	golden(t, "proxy-status.txt", render(t, Params{View: "proxy-status", Proxies: proxies}))
	golden(t, "proxy-status-v1.txt", render(t, Params{View: "proxy-status", Proxies: proxies, Flags: Flags{Verbosity: 1}}))

	// istioctl's own sample (§7.8, multiXdsStatusMultiPilot.txt), first row, from the same inputs.
	sample := []StatusProxy{{ID: "proxy1", ClusterID: "cluster1", IstioVersion: "1.20", Types: []string{"CDS", "LDS", "EDS", "RDS", "ECDS"}}}
	got := render(t, Params{View: "proxy-status", Proxies: sample, Istiod: "istiod1"})
	want := "NAME       CLUSTER      ISTIOD      VERSION     SUBSCRIBED TYPES\nproxy1     cluster1     istiod1     1.20        5 (CDS,LDS,EDS,RDS,ECDS)\n"
	if got != want {
		t.Errorf("got:\n%q\nwant:\n%q", got, want)
	}
}

func TestBadRequests(t *testing.T) {
	cfg := readConfig(t, "istioinaction-webapp.config.json")
	for name, p := range map[string]Params{
		"unknown view":   {View: "secrets", Config: cfg},
		"bad output":     {View: "route", Config: cfg, Flags: Flags{Output: "xml"}},
		"bad port":       {View: "cluster", Config: cfg, Flags: Flags{Port: 70000}},
		"nothing to see": {View: "cluster"},
		"bad type":       {View: "proxy-status", Proxies: []StatusProxy{{ID: "a.b", Types: []string{"XDS"}}}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Render(p)
			var bad BadRequest
			if !errors.As(err, &bad) {
				t.Fatalf("want a BadRequest, got %v", err)
			}
		})
	}
}
