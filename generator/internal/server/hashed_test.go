package server

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/meshlens/meshlens/generator/internal/protocol"
)

type wireHashed struct {
	Proxy protocol.ProxyInfo `json:"proxy"`
	protocol.JobProxyConfig
}

func (w wireHashed) lists() [][]protocol.JobObject {
	return [][]protocol.JobObject{w.Listeners, w.Routes, w.Clusters, w.Endpoints}
}

func (w wireProxyConfig) lists() [][]json.RawMessage {
	return [][]json.RawMessage{w.Listeners, w.Routes, w.Clusters, w.Endpoints}
}

// jobReader is the compute job's side: the answers read in the order they are written, every
// object kept by ref.
type jobReader struct {
	t       *testing.T
	objects []string
}

// read resolves an answer into its objects' JSON (canonical, as sent), list by list, requiring each object
// sent once: with its JSON the first time, under the next ref, by a ref read before afterwards.
func (j *jobReader) read(r response) (wireHashed, [][]string) {
	j.t.Helper()
	var w wireHashed
	wantResult(j.t, r, &w)
	var out [][]string
	for _, list := range w.lists() {
		var texts []string
		for _, o := range list {
			switch {
			case o.Object != nil && o.Ref != len(j.objects):
				j.t.Fatalf("answer %d: object sent as ref %d, want %d", r.ID, o.Ref, len(j.objects))
			case o.Object == nil && (o.Ref < 0 || o.Ref >= len(j.objects)):
				j.t.Fatalf("answer %d: ref %d named before it was sent", r.ID, o.Ref)
			case o.Object != nil:
				var named struct{ Name, ClusterName string }
				if err := json.Unmarshal(o.Object, &named); err != nil {
					j.t.Fatal(err)
				}
				if o.Name != named.Name+named.ClusterName {
					j.t.Errorf("answer %d: object %s sent as named %q", r.ID, o.Object, o.Name)
				}
				j.objects = append(j.objects, string(o.Object))
			}
			texts = append(texts, j.objects[o.Ref])
		}
		out = append(out, texts)
	}
	return w, out
}

// plainObjects is a proxyConfig answer's objects, list by list, in canonical form.
func plainObjects(t *testing.T, r response) [][]string {
	t.Helper()
	var w wireProxyConfig
	wantResult(t, r, &w)
	var out [][]string
	for _, list := range w.lists() {
		var texts []string
		for _, o := range list {
			canonical, err := protocol.AppendCanonical(nil, o)
			if err != nil {
				t.Fatal(err)
			}
			texts = append(texts, string(canonical))
		}
		out = append(out, texts)
	}
	return out
}

// sameObjects compares two answers' objects, list by list, as sets (istiod's order may differ
// between two generations of the same proxy; Envoy keys every type by name).
func sameObjects(a, b [][]string) bool {
	for i := range a {
		x, y := slices.Clone(a[i]), slices.Clone(b[i])
		slices.Sort(x)
		slices.Sort(y)
		if !slices.Equal(x, y) {
			return false
		}
	}
	return len(a) == len(b)
}

func TestHashedProxyConfigOverProtocol(t *testing.T) {
	c := serve(t)
	wantResult(t, c.call(1, "load", snapshot(t)), nil)
	proxyOf := func(i int) map[string]any {
		if i == 0 {
			return map[string]any{"namespace": "shop", "name": "web-1"}
		}
		return map[string]any{"namespace": "shop", "name": fmt.Sprintf("p%d", i), "labels": map[string]string{"app": "web"}, "ip": fmt.Sprintf("10.1.0.%d", i)}
	}
	const n = 12
	plain := make([][][]string, n)
	for i := range n {
		plain[i] = plainObjects(t, c.call(int64(10+i), "proxyConfig", map[string]any{"proxy": proxyOf(i)}))
	}

	// Concurrent answers to one job: each object sent once, in the order of writing; resolved,
	// every answer is proxyConfig's.
	job := &jobReader{t: t}
	for i := range n {
		c.send(int64(100+i), "hashedProxyConfig", map[string]any{"proxy": proxyOf(i), "job": "a"})
	}
	sentInFirst := 0
	for k := range n {
		r := c.recv()
		w, objects := job.read(r)
		i := int(r.ID - 100)
		if w.Proxy.ID != fmt.Sprint(proxyOf(i)["name"], ".shop") {
			t.Errorf("answer %d is for %s", r.ID, w.Proxy.ID)
		}
		if !sameObjects(objects, plain[i]) {
			t.Errorf("answer %d: objects differ from proxyConfig's", r.ID)
		}
		if k == 0 {
			sentInFirst = len(job.objects)
		}
	}
	if sentInFirst == 0 || len(job.objects) >= n*sentInFirst {
		t.Errorf("%d objects sent in %d answers, %d in the first: shared objects were not sent once", len(job.objects), n, sentInFirst)
	}

	// Another job holds nothing yet; a job ended holds nothing again.
	other := &jobReader{t: t}
	other.read(c.call(200, "hashedProxyConfig", map[string]any{"proxy": proxyOf(0), "job": "b"}))
	wantResult(t, c.call(201, "endJob", map[string]any{"job": "a"}), nil)
	again := &jobReader{t: t}
	again.read(c.call(202, "hashedProxyConfig", map[string]any{"proxy": proxyOf(0), "job": "a"}))
	if len(other.objects) == 0 || len(again.objects) != len(other.objects) {
		t.Errorf("a new job got %d objects, an ended one %d", len(other.objects), len(again.objects))
	}

	wantError(t, c.call(300, "hashedProxyConfig", map[string]any{"proxy": proxyOf(0)}), protocol.CodeBadRequest)
	wantError(t, c.call(301, "hashedProxyConfig", map[string]any{"proxy": map[string]any{"namespace": "shop", "name": "nope"}, "job": "a"}), protocol.CodeNotFound)
	c.close()
}
