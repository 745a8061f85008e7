package session

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"

	"istio.io/istio/pilot/pkg/model"
	v3 "istio.io/istio/pilot/pkg/xds/v3"
	"istio.io/istio/pilot/test/xdstest"
	"istio.io/istio/pkg/util/sets"

	"github.com/meshlens/meshlens/generator/internal/protocol"
)

// floorInput is what `npm run bench` writes for BenchmarkFloor: the snapshot as the worker loads
// it, and one proxy of each class the worker computes (its representative).
type floorInput struct {
	Load    Input        `json:"load"`
	Proxies []ProxyInput `json:"proxies"`
}

// floorProxy is one class representative, built once as istiod builds a connecting proxy, with the
// names its RDS and EDS requests subscribe to (what Envoy asks for after LDS and CDS).
type floorProxy struct {
	proxy    *model.Proxy
	routes   []string
	clusters []string
}

// BenchmarkFloor is the floor of a snapshot's compute: istiod's own xDS generators (LDS, RDS, CDS,
// EDS, as its push calls them, producing the protobuf resources it sends) for one proxy of each
// class, without meshlens's JSON marshalling, storage or anything else. One op generates every
// class once, from an empty xDS cache ("all"); the sub-benchmarks named by type time each type
// alone, and "compute" the generator's whole share of a compute job. MESHLENS_FLOOR_INPUT names
// the file (written by bench/bench.mjs); MESHLENS_FLOOR_CLASSES limits the number of classes.
//
//	MESHLENS_FLOOR_INPUT=/tmp/floor.json go test -run '^$' -bench BenchmarkFloor -benchtime 1x ./internal/session/
func BenchmarkFloor(b *testing.B) {
	s, proxies := loadFloor(b)
	push := s.server.PushContext()
	gens := s.server.Discovery.Generators
	// A full, forced push: what a proxy gets when it connects (no "needs push" shortcut).
	request := func() *model.PushRequest {
		return &model.PushRequest{Push: push, Forced: true, Start: time.Now()}
	}
	generate := func(b *testing.B, typeURL string, names func(floorProxy) []string) int {
		gen := gens[typeURL]
		if gen == nil {
			b.Fatalf("no generator for %s", typeURL)
		}
		resources := 0
		for _, fp := range proxies {
			w := &model.WatchedResource{TypeUrl: typeURL}
			if names != nil {
				w.ResourceNames = sets.New(names(fp)...)
			} else {
				w.Wildcard = true
			}
			out, _, err := gen.Generate(fp.proxy, w, request())
			if err != nil {
				b.Fatalf("%s: %v", typeURL, err)
			}
			resources += len(out)
		}
		return resources
	}
	types := []struct {
		name    string
		typeURL string
		names   func(floorProxy) []string
	}{
		{"LDS", v3.ListenerType, nil},
		{"RDS", v3.RouteType, func(fp floorProxy) []string { return fp.routes }},
		{"CDS", v3.ClusterType, nil},
		{"EDS", v3.EndpointType, func(fp floorProxy) []string { return fp.clusters }},
	}
	report := func(b *testing.B, resources int) {
		b.ReportMetric(float64(resources)/float64(b.N), "resources/op")
		reportPerClass(b, len(proxies))
	}
	// Each op starts from an empty xDS cache, as the first push after istiod starts: the cache
	// still serves what one class's generation shares with the next (Istio's own reuse).
	cold := func(b *testing.B) {
		b.StopTimer()
		s.server.Discovery.Cache.ClearAll()
		b.StartTimer()
	}
	b.Run("all", func(b *testing.B) {
		resources := 0
		for b.Loop() {
			cold(b)
			for _, t := range types {
				resources += generate(b, t.typeURL, t.names)
			}
		}
		report(b, resources)
	})
	// The generator's own least work in a compute job: the generation as a job runs it (Pack) and
	// its answers (hashedProxyConfig: each object hashed, marshalled as JSON and written once per
	// job), class after class in one goroutine, from an empty xDS cache and a new job. What it adds
	// to "all" is meshlens's marshalling, which the store needs (it keeps Envoy's JSON).
	b.Run("compute", func(b *testing.B) {
		for b.Loop() {
			cold(b)
			job := NewSent()
			for _, fp := range proxies {
				packed, err := s.Pack(fp.proxy, job)
				if err != nil {
					b.Fatal(err)
				}
				h, err := packed.Hashed(Describe(fp.proxy), job)
				if err != nil {
					b.Fatal(err)
				}
				var out countingWriter
				if err := json.NewEncoder(&out).Encode(h.Commit()); err != nil {
					b.Fatal(err)
				}
			}
		}
		reportPerClass(b, len(proxies))
	})
	for _, t := range types {
		b.Run(t.name, func(b *testing.B) {
			resources := 0
			for b.Loop() {
				cold(b)
				resources += generate(b, t.typeURL, t.names)
			}
			report(b, resources)
		})
	}
}

// loadFloor loads the snapshot of MESHLENS_FLOOR_INPUT and builds its class representatives, each
// generated once (their RDS and EDS names).
func loadFloor(b *testing.B) (*Session, []floorProxy) {
	in, ok := readFloorInput(b)
	if !ok {
		b.Skip("MESHLENS_FLOOR_INPUT is not set (npm run bench writes it)")
	}
	s, err := Load(in.Load)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)

	proxies := make([]floorProxy, 0, len(in.Proxies))
	for _, pi := range in.Proxies {
		p, err := s.Proxy(pi)
		if err != nil {
			b.Fatalf("proxy %s/%s: %v", pi.Namespace, pi.Name, err)
		}
		g, err := s.Generate(p)
		if err != nil {
			b.Fatalf("proxy %s/%s: %v", pi.Namespace, pi.Name, err)
		}
		routes := xdstest.ExtractRoutesFromListeners(g.Listeners)
		slices.Sort(routes)
		proxies = append(proxies, floorProxy{
			proxy:    p,
			routes:   slices.Compact(routes),
			clusters: xdstest.ExtractEdsClusterNames(g.Clusters),
		})
	}
	return s, proxies
}

// readFloorInput reads MESHLENS_FLOOR_INPUT, its first MESHLENS_FLOOR_CLASSES classes; false when it is not set.
func readFloorInput(tb testing.TB) (floorInput, bool) {
	var in floorInput
	path := os.Getenv("MESHLENS_FLOOR_INPUT")
	if path == "" {
		return in, false
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	if n, ok := envInt("MESHLENS_FLOOR_CLASSES"); ok && n < len(in.Proxies) {
		in.Proxies = in.Proxies[:n]
	}
	return in, true
}

func envInt(name string) (int, bool) {
	v := os.Getenv(name)
	if v == "" {
		return 0, false
	}
	var n int
	if err := json.Unmarshal([]byte(v), &n); err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// BenchmarkAnswer splits the generator's answers for the same classes as BenchmarkFloor into
// their steps, each timed alone over every class: istiod's generation as a compute job runs it
// (generate: Pack), as proxyConfig runs it (unpacked: Generate), the proto3 JSON of every object
// (JSON), proxyConfig's answer written as the server writes it (encode, from the marshalled
// objects), a compute job's answers from the packed objects (hashed: every object hashed, unpacked,
// marshalled and written once per job). BenchmarkFloor/compute times generate and hashed together.
//
//	MESHLENS_FLOOR_INPUT=/tmp/floor.json go test -run '^$' -bench BenchmarkAnswer -benchtime 1x ./internal/session/
func BenchmarkAnswer(b *testing.B) {
	s, proxies := loadFloor(b)
	generated := make([]*Generated, len(proxies))
	packed := make([]*Packed, len(proxies))
	marshalled := make([]*ProxyConfig, len(proxies))
	for i, fp := range proxies {
		var err error
		if packed[i], err = s.Pack(fp.proxy, nil); err != nil {
			b.Fatal(err)
		}
		if generated[i], err = s.Generate(fp.proxy); err != nil {
			b.Fatal(err)
		}
		if marshalled[i], err = generated[i].JSON(); err != nil {
			b.Fatal(err)
		}
	}
	perClass := func(b *testing.B) { reportPerClass(b, len(proxies)) }
	cold := func(b *testing.B) {
		b.StopTimer()
		s.server.Discovery.Cache.ClearAll()
		b.StartTimer()
	}
	// A compute job's generation (Pack), from an empty xDS cache as BenchmarkFloor's.
	b.Run("generate", func(b *testing.B) {
		for b.Loop() {
			cold(b)
			job := NewSent()
			for _, fp := range proxies {
				if _, err := s.Pack(fp.proxy, job); err != nil {
					b.Fatal(err)
				}
			}
		}
		perClass(b)
	})
	// proxyConfig's generation (Generate: Pack, every object unpacked).
	b.Run("unpacked", func(b *testing.B) {
		for b.Loop() {
			cold(b)
			for _, fp := range proxies {
				if _, err := s.Generate(fp.proxy); err != nil {
					b.Fatal(err)
				}
			}
		}
		perClass(b)
	})
	b.Run("JSON", func(b *testing.B) {
		for b.Loop() {
			for _, g := range generated {
				if _, err := g.JSON(); err != nil {
					b.Fatal(err)
				}
			}
		}
		perClass(b)
	})
	b.Run("encode", func(b *testing.B) {
		bytes := 0
		for b.Loop() {
			for i, fp := range proxies {
				var buf countingWriter
				if err := json.NewEncoder(&buf).Encode(protocol.ProxyConfigResult{Proxy: Describe(fp.proxy), ProxyConfig: marshalled[i]}); err != nil {
					b.Fatal(err)
				}
				bytes += int(buf)
			}
		}
		perClass(b)
		b.ReportMetric(float64(bytes)/float64(b.N)/float64(len(proxies))/(1<<20), "MiB/class")
	})
	// A compute job's answers (hashedProxyConfig) from the packed objects: hashed, each unpacked,
	// marshalled and written once per job.
	b.Run("hashed", func(b *testing.B) {
		bytes := 0
		for b.Loop() {
			sent := NewSent()
			for i, fp := range proxies {
				h, err := packed[i].Hashed(Describe(fp.proxy), sent)
				if err != nil {
					b.Fatal(err)
				}
				var buf countingWriter
				if err := json.NewEncoder(&buf).Encode(h.Commit()); err != nil {
					b.Fatal(err)
				}
				bytes += int(buf)
			}
		}
		perClass(b)
		b.ReportMetric(float64(bytes)/float64(b.N)/float64(len(proxies))/(1<<20), "MiB/class")
	})
}

// reportPerClass reports the classes an op generates and the time per class.
func reportPerClass(b *testing.B, classes int) {
	b.ReportMetric(float64(classes), "classes")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(classes)/1e6, "ms/class")
}

type countingWriter int

func (w *countingWriter) Write(p []byte) (int, error) {
	*w += countingWriter(len(p))
	return len(p), nil
}
