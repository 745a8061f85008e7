package session

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"istio.io/istio/pilot/pkg/features"
	"istio.io/istio/pilot/pkg/simulation"
	"istio.io/istio/pilot/test/xdstest"
	"istio.io/istio/pkg/test"
)

// The conformance corpus: cases transcribed from Istio's own traffic-simulation tests
// (/work/shared/conformance/README.md), the shared ones and our own (conformance/istio-sim, the
// test functions the shared corpus leaves out, in the same format). Each case is loaded the way the
// service loads a snapshot, its proxy built the way the service asks for one, and Istio's simulation
// harness evaluates the calls on what the session generates.
var corpusDirs = []string{"../../../../shared/conformance/istio-sim", "../../../conformance/istio-sim"}

type simFile struct {
	Source string    `json:"source"`
	Cases  []simCase `json:"cases"`
}

type simCase struct {
	Name string `json:"name"`
	// Refused says why meshlens refuses the case's snapshot as istiod's admission would (the case is
	// skip: true for run.mjs).
	Refused     string          `json:"refused"`
	Config      string          `json:"config"`
	Mesh        map[string]any  `json:"mesh"`
	Features    map[string]any  `json:"features"`
	Proxy       simProxy        `json:"proxy"`
	Calls       []simCall       `json:"calls"`
	RouteChecks []simRouteCheck `json:"routeChecks"`
	Checks      []simCheck      `json:"checks"`
	// InboundClusters maps each inbound cluster to its static endpoints (nil: none); absent when
	// the case does not assert them, {} when there must be no inbound cluster.
	InboundClusters *map[string][]string `json:"inboundClusters"`
	ListenerShape   *simListenerShape    `json:"listenerShape"`
}

// simListenerShape asserts the listeners of a port and the shape of one of them
// (TestHeadlessServiceListenerShape only); each field unset is not asserted.
type simListenerShape struct {
	Port int `json:"port"`
	// Listeners is the exact number of listeners bound to Port; ListenersAtLeast a lower bound.
	Listeners        *int `json:"listeners"`
	ListenersAtLeast *int `json:"listenersAtLeast"`
	// Listener names the listener the other fields describe.
	Listener           string `json:"listener"`
	FilterChainMatcher *bool  `json:"filterChainMatcher"`
	DefaultFilterChain *bool  `json:"defaultFilterChain"`
	// PrefixRangeChains counts the filter chains matching destination prefix ranges, every one of
	// which is PrefixLength long.
	PrefixRangeChains *int `json:"prefixRangeChains"`
	PrefixLength      *int `json:"prefixLength"`
}

type simProxy struct {
	Type              string            `json:"type"`
	Namespace         string            `json:"namespace"`
	MetadataNamespace string            `json:"metadataNamespace"`
	IP                string            `json:"ip"`
	IPs               []string          `json:"ips"`
	Labels            map[string]string `json:"labels"`
	IstioVersion      string            `json:"istioVersion"`
	DNSDomain         string            `json:"dnsDomain"`
	ClusterID         string            `json:"clusterID"`
	Metadata          map[string]any    `json:"metadata"`
}

type simCall struct {
	Name     string `json:"name"`
	Mode     string `json:"mode"`
	Address  string `json:"address"`
	Port     int    `json:"port"`
	Protocol string `json:"protocol"`
	TLS      string `json:"tls"`
	Host     string `json:"host"`
	SNI      string `json:"sni"`
	ALPN     string `json:"alpn"`
	Path     string `json:"path"`
	// MtlsSecretConfigName is the SDS secret the harness takes for the workload's mTLS certificate
	// (its default: "default"); only TestInboundSidecarTLSModes sets it.
	MtlsSecretConfigName string    `json:"mtlsSecretConfigName"`
	Expect               simExpect `json:"expect"`
}

type simExpect struct {
	Listener    string `json:"listener"`
	FilterChain string `json:"filterChain"`
	RouteConfig string `json:"routeConfig"`
	VirtualHost string `json:"virtualHost"`
	Route       string `json:"route"`
	Cluster     string `json:"cluster"`
	Error       string `json:"error"`
	Strict      bool   `json:"strict"`
}

type simRouteCheck struct {
	RouteConfig string   `json:"routeConfig"`
	Domain      string   `json:"domain"`
	Clusters    []string `json:"clusters"`
}

// simCheck asserts one field of a generated object, as run.mjs reads it: the listener or cluster
// named Name, or route configuration RouteConfig (its virtual host VirtualHost, its route Index),
// rendered as the API renders it (protojson), at Path (dotted, with [i] indexes).
type simCheck struct {
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	RouteConfig string `json:"routeConfig"`
	VirtualHost string `json:"virtualHost"`
	Index       *int   `json:"index"`
	Path        string `json:"path"`
	Equals      any    `json:"equals"`
}

var simErrors = map[string]error{}

func init() {
	for _, err := range []error{
		simulation.ErrNoListener, simulation.ErrNoFilterChain, simulation.ErrMultipleFilterChain,
		simulation.ErrTLSError, simulation.ErrMTLSError, simulation.ErrProtocolError,
		simulation.ErrNoVirtualHost, simulation.ErrTLSRedirect, simulation.ErrNoRoute,
	} {
		simErrors[err.Error()] = err
	}
}

// featureFlags are the istiod feature flags that corpus cases override (`features:`), by their
// environment names. The API cannot set them (run.mjs skips such cases), but Istio's harness here
// can, as the Go tests do, which checks their transcription.
var featureFlags = map[string]*bool{
	"ENABLE_TLS_ON_SIDECAR_INGRESS": &features.EnableTLSOnSidecarIngress,
	"PILOT_ENABLE_IP_AUTOALLOCATE":  &features.EnableIPAutoallocate,
}

func TestIstioSimulationCorpus(t *testing.T) {
	dirs := corpusDirs
	if d := os.Getenv("MESHLENS_ISTIO_SIM_DIR"); d != "" {
		dirs = []string{d}
	}
	var files []string
	for _, dir := range dirs {
		found, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		files = append(files, found...)
	}
	if len(files) == 0 {
		t.Skipf("no conformance corpus at %v", dirs)
	}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var f simFile
		if err := yaml.Unmarshal(raw, &f); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			for _, c := range f.Cases {
				t.Run(c.Name, func(t *testing.T) {
					for name, value := range c.Features {
						flag, known := featureFlags[name]
						on, isBool := value.(bool)
						if !known || !isBool {
							t.Skipf("needs istiod feature flag %s=%v", name, value)
						}
						test.SetForTest(t, flag, on)
					}
					if c.Refused != "" {
						if s := mustLoad(t, splitSnapshot(t, c.Config)); len(s.Diagnostics) == 0 {
							t.Fatal("the case says meshlens refuses its snapshot, but it loads: " + c.Refused)
						}
						return
					}
					runSimCase(t, c)
				})
			}
		})
	}
}

func runSimCase(t *testing.T, c simCase) {
	in := splitSnapshot(t, c.Config)
	if len(c.Mesh) > 0 {
		b, err := yaml.Marshal(c.Mesh)
		if err != nil {
			t.Fatal(err)
		}
		in.MeshConfig = string(b)
	}
	s := mustLoad(t, in)
	if len(s.Diagnostics) > 0 {
		t.Fatalf("corpus config rejected: %+v", s.Diagnostics)
	}

	pin := ProxyInput{
		Namespace:    c.Proxy.Namespace,
		Name:         "app",
		Labels:       c.Proxy.Labels,
		IP:           c.Proxy.IP,
		IPs:          c.Proxy.IPs,
		Type:         c.Proxy.Type,
		IstioVersion: c.Proxy.IstioVersion,
		Metadata:     map[string]any{},
	}
	for k, v := range c.Proxy.Metadata {
		pin.Metadata[k] = v
	}
	if c.Proxy.MetadataNamespace != "" {
		pin.Metadata["NAMESPACE"] = c.Proxy.MetadataNamespace
	}
	if c.Proxy.ClusterID != "" {
		pin.Metadata["CLUSTER_ID"] = c.Proxy.ClusterID
	}
	if c.Proxy.DNSDomain != "" {
		pin.Metadata["DNS_DOMAIN"] = c.Proxy.DNSDomain
	}
	p := mustProxy(t, s, pin)
	if p.ConfigNamespace != c.Proxy.Namespace {
		t.Fatalf("config namespace %q, want %q", p.ConfigNamespace, c.Proxy.Namespace)
	}
	if want := c.Proxy.MetadataNamespace; want != "" && p.Metadata.Namespace != want {
		t.Fatalf("metadata namespace %q, want %q", p.Metadata.Namespace, want)
	}

	sim := simulation.NewSimulation(t, s.server, p)
	for _, call := range c.Calls {
		t.Run(call.Name, func(t *testing.T) {
			want := simulation.Result{
				ListenerMatched:    call.Expect.Listener,
				FilterChainMatched: call.Expect.FilterChain,
				RouteConfigMatched: call.Expect.RouteConfig,
				VirtualHostMatched: call.Expect.VirtualHost,
				RouteMatched:       call.Expect.Route,
				ClusterMatched:     call.Expect.Cluster,
				StrictMatch:        call.Expect.Strict,
			}
			if call.Expect.Error != "" {
				want.Error = simErrors[call.Expect.Error]
				if want.Error == nil {
					t.Fatalf("unknown expected error %q", call.Expect.Error)
				}
			}
			sim.Run(simulation.Call{
				Address:    call.Address,
				Port:       call.Port,
				Path:       call.Path,
				Protocol:   simulation.Protocol(call.Protocol),
				TLS:        simulation.TLSMode(call.TLS),
				Alpn:       call.ALPN,
				HostHeader: call.Host,
				Sni:        call.SNI,
				CallMode:   simulation.CallMode(call.Mode),

				MtlsSecretConfigName: call.MtlsSecretConfigName,
			}).Matches(t, want)
		})
	}

	for _, rc := range c.RouteChecks {
		t.Run("routes "+rc.RouteConfig+" "+rc.Domain, func(t *testing.T) {
			got := []string{}
			for _, r := range sim.Routes {
				if r.Name != rc.RouteConfig {
					continue
				}
				for _, vh := range r.VirtualHosts {
					if !slices.Contains(vh.Domains, rc.Domain) {
						continue
					}
					for _, route := range vh.Routes {
						if cl := route.GetRoute().GetCluster(); cl != "" {
							got = append(got, cl)
						}
					}
				}
			}
			slices.Sort(got)
			want := append([]string{}, rc.Clusters...)
			slices.Sort(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("clusters %v, want %v", got, want)
			}
		})
	}

	for _, check := range c.Checks {
		t.Run("check "+check.Kind+" "+check.Name+check.RouteConfig+" "+check.Path, func(t *testing.T) {
			target, found := checkedObject(t, sim, check)
			if !found {
				t.Fatalf("%s not found in the generated config", check.Kind)
			}
			got, _ := json.Marshal(dig(target, check.Path))
			want, _ := json.Marshal(check.Equals)
			if string(got) != string(want) {
				t.Errorf("%s = %s, want %s", check.Path, got, want)
			}
		})
	}

	if c.ListenerShape != nil {
		checkListenerShape(t, sim, *c.ListenerShape)
	}

	if c.InboundClusters != nil {
		got := map[string][]string{}
		for _, cl := range sim.Clusters {
			if !strings.HasPrefix(cl.Name, "inbound") {
				continue
			}
			var eps []string
			for _, le := range cl.GetLoadAssignment().GetEndpoints() {
				for _, e := range le.GetLbEndpoints() {
					addr := e.GetEndpoint().GetAddress()
					if pipe := addr.GetPipe(); pipe != nil {
						eps = append(eps, pipe.Path)
					} else if sa := addr.GetSocketAddress(); sa != nil {
						eps = append(eps, sa.GetAddress()+":"+strconv.Itoa(int(sa.GetPortValue())))
					}
				}
			}
			got[cl.Name] = eps
		}
		if !reflect.DeepEqual(got, *c.InboundClusters) {
			t.Errorf("inbound clusters %v, want %v", got, c.InboundClusters)
		}
	}
}

func checkListenerShape(t *testing.T, sim *simulation.Simulation, want simListenerShape) {
	onPort := 0
	for _, l := range sim.Listeners {
		if int(l.GetAddress().GetSocketAddress().GetPortValue()) == want.Port {
			onPort++
		}
	}
	if want.Listeners != nil && onPort != *want.Listeners {
		t.Errorf("%d listeners on port %d, want %d", onPort, want.Port, *want.Listeners)
	}
	if want.ListenersAtLeast != nil && onPort < *want.ListenersAtLeast {
		t.Errorf("%d listeners on port %d, want at least %d", onPort, want.Port, *want.ListenersAtLeast)
	}
	if want.Listener == "" {
		return
	}
	l := xdstest.ExtractListener(want.Listener, sim.Listeners)
	if l == nil {
		t.Fatalf("no listener %s among %v", want.Listener, xdstest.ExtractListenerNames(sim.Listeners))
	}
	if want.FilterChainMatcher != nil && (l.FilterChainMatcher != nil) != *want.FilterChainMatcher {
		t.Errorf("filter chain matcher present: %v, want %v", l.FilterChainMatcher != nil, *want.FilterChainMatcher)
	}
	if want.DefaultFilterChain != nil && (l.DefaultFilterChain != nil) != *want.DefaultFilterChain {
		t.Errorf("default filter chain present: %v, want %v", l.DefaultFilterChain != nil, *want.DefaultFilterChain)
	}
	prefixChains := 0
	for _, fc := range l.FilterChains {
		ranges := fc.GetFilterChainMatch().GetPrefixRanges()
		if len(ranges) == 0 {
			continue
		}
		prefixChains++
		for _, r := range ranges {
			if want.PrefixLength != nil && int(r.GetPrefixLen().GetValue()) != *want.PrefixLength {
				t.Errorf("prefix range /%d, want /%d", r.GetPrefixLen().GetValue(), *want.PrefixLength)
			}
		}
	}
	if want.PrefixRangeChains != nil && prefixChains != *want.PrefixRangeChains {
		t.Errorf("%d filter chains match prefix ranges, want %d", prefixChains, *want.PrefixRangeChains)
	}
}

// checkedObject is the object a check reads, as JSON values (protojson, as the API renders it).
func checkedObject(t *testing.T, sim *simulation.Simulation, check simCheck) (any, bool) {
	var msg proto.Message
	switch check.Kind {
	case "listener":
		msg = xdstest.ExtractListener(check.Name, sim.Listeners)
	case "cluster":
		msg = xdstest.ExtractClusters(sim.Clusters)[check.Name]
	case "route":
		for _, r := range sim.Routes {
			if r.Name == check.RouteConfig {
				msg = r
			}
		}
	default:
		t.Fatalf("unknown check kind %q", check.Kind)
	}
	if msg == nil || reflect.ValueOf(msg).IsNil() {
		return nil, false
	}
	b, err := protojson.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if check.Kind != "route" || check.VirtualHost == "" {
		return out, true
	}
	for _, vh := range dig(out, "virtualHosts").([]any) {
		if vh.(map[string]any)["name"] != check.VirtualHost {
			continue
		}
		if check.Index == nil {
			return vh, true
		}
		route := dig(vh, "routes["+strconv.Itoa(*check.Index)+"]")
		return route, route != nil
	}
	return nil, false
}

// dig is the value at a dotted path with [i] indexes, nil when there is none.
func dig(v any, path string) any {
	for _, part := range strings.FieldsFunc(path, func(r rune) bool { return r == '.' || r == '[' || r == ']' }) {
		switch o := v.(type) {
		case map[string]any:
			v = o[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(o) {
				return nil
			}
			v = o[i]
		default:
			return nil
		}
	}
	return v
}
