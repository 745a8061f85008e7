package server

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/meshlens/meshlens/generator/internal/admission"
	"github.com/meshlens/meshlens/generator/internal/protocol"
	"github.com/meshlens/meshlens/generator/internal/session"
)

func TestMain(m *testing.M) {
	if err := session.QuietLogs(); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

type response struct {
	ID     int64           `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *protocol.Error `json:"error"`
}

// conn drives Serve over two pipes, as the service drives the generator's stdin and stdout.
type conn struct {
	t         *testing.T
	in        *io.PipeWriter
	responses chan response
	served    chan error
}

func serve(t *testing.T) *conn {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	c := &conn{t: t, in: inW, responses: make(chan response, 1024), served: make(chan error, 1)}
	go func() {
		err := Serve(inR, outW)
		_ = outW.Close()
		c.served <- err
	}()
	go func() {
		dec := json.NewDecoder(outR)
		for {
			var r response
			if err := dec.Decode(&r); err != nil {
				close(c.responses)
				return
			}
			c.responses <- r
		}
	}()
	t.Cleanup(func() { _ = inW.Close() })
	return c
}

func (c *conn) sendLine(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.in, line+"\n"); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *conn) send(id int64, method string, params any) {
	c.t.Helper()
	req := map[string]any{"id": id, "method": method}
	if params != nil {
		req["params"] = params
	}
	b, err := json.Marshal(req)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendLine(string(b))
}

func (c *conn) recv() response {
	c.t.Helper()
	select {
	case r, ok := <-c.responses:
		if !ok {
			c.t.Fatal("generator closed stdout")
		}
		return r
	case <-time.After(3 * time.Minute):
		c.t.Fatal("no response")
	}
	return response{}
}

// call sends one request and waits for its answer; only for requests sent one at a time.
func (c *conn) call(id int64, method string, params any) response {
	c.t.Helper()
	c.send(id, method, params)
	r := c.recv()
	if r.ID != id {
		c.t.Fatalf("response id %d, want %d", r.ID, id)
	}
	return r
}

// close ends stdin and expects Serve to return cleanly.
func (c *conn) close() {
	c.t.Helper()
	_ = c.in.Close()
	select {
	case err := <-c.served:
		if err != nil {
			c.t.Errorf("Serve: %v", err)
		}
	case <-time.After(time.Minute):
		c.t.Fatal("Serve did not return after stdin closed")
	}
}

func wantError(t *testing.T, r response, code string) {
	t.Helper()
	if r.Error == nil || r.Error.Code != code {
		t.Errorf("response %d: error %+v (result %s), want %s", r.ID, r.Error, r.Result, code)
	}
	if r.Error != nil && len(r.Result) != 0 {
		t.Errorf("response %d carries both error and result", r.ID)
	}
}

func wantResult(t *testing.T, r response, into any) {
	t.Helper()
	if r.Error != nil {
		t.Fatalf("response %d: error %+v", r.ID, *r.Error)
	}
	if into != nil {
		if err := json.Unmarshal(r.Result, into); err != nil {
			t.Fatalf("response %d: %v\n%s", r.ID, err, r.Result)
		}
	}
}

const snapshotYAML = `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  clusterIP: 10.96.0.20
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: shop, labels: {app: web}}
spec:
  containers:
  - name: web
    image: web
    ports: [{containerPort: 8080}]
status: {phase: Running, podIP: 10.0.0.5}
---
apiVersion: v1
kind: Pod
metadata: {name: job, namespace: shop, labels: {app: job}}
spec:
  containers: [{name: job, image: job}]
status: {phase: Running, podIP: 10.0.0.6}
`

const vsYAML = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: shop}
spec:
  hosts: [web]
  http:
  - route:
    - destination: {host: web}
`

func snapshot(t *testing.T) map[string]any {
	t.Helper()
	var kube []json.RawMessage
	for _, doc := range strings.Split(snapshotYAML, "\n---\n") {
		b, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		kube = append(kube, b)
	}
	vs, err := yaml.YAMLToJSON([]byte(vsYAML))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{
		"kubernetes": kube,
		"istio":      []json.RawMessage{vs},
		"meshConfig": "",
		"proxyTypes": map[string]string{"shop/job": "NONE"},
	}
}

type wireProxyConfig struct {
	Proxy     session.ProxyInfo `json:"proxy"`
	Listeners []json.RawMessage `json:"listeners"`
	Routes    []json.RawMessage `json:"routes"`
	Clusters  []json.RawMessage `json:"clusters"`
	Endpoints []json.RawMessage `json:"endpoints"`
}

func TestServe(t *testing.T) {
	c := serve(t)

	// Framing errors and questions before load.
	c.sendLine(`{"id": 1, "method": `)
	r := c.recv()
	wantError(t, r, protocol.CodeBadRequest)
	if r.ID != 0 {
		t.Errorf("non-JSON line answered with id %d", r.ID)
	}

	var v session.VersionInfo
	wantResult(t, c.call(2, "version", nil), &v)
	if v.Istio != session.DefaultIstioVersion {
		t.Errorf("version %+v", v)
	}

	for i, m := range []string{"proxyConfig", "proxies", "analyze", "frobnicate"} {
		wantError(t, c.call(int64(10+i), m, map[string]any{"proxy": map[string]any{"namespace": "shop", "name": "web-1"}}), protocol.CodeNotLoaded)
	}

	wantError(t, c.call(19, "load", "not an object"), protocol.CodeBadRequest)

	var loaded struct {
		Diagnostics []session.Diagnostic `json:"diagnostics"`
		Pods        int                  `json:"pods"`
	}
	wantResult(t, c.call(20, "load", snapshot(t)), &loaded)
	if loaded.Pods != 2 || len(loaded.Diagnostics) != 0 {
		t.Errorf("load result %+v", loaded)
	}

	wantError(t, c.call(21, "load", snapshot(t)), protocol.CodeBadRequest)
	wantError(t, c.call(22, "frobnicate", nil), protocol.CodeBadRequest)
	wantError(t, c.call(23, "proxyConfig", map[string]any{"proxy": 5}), protocol.CodeBadRequest)
	wantError(t, c.call(24, "proxyConfig", map[string]any{"proxy": map[string]any{"namespace": "shop", "name": "nope"}}), protocol.CodeNotFound)
	wantError(t, c.call(25, "proxyConfig", map[string]any{"proxy": map[string]any{"namespace": "shop", "name": "job"}}), protocol.CodeNoProxy)
	wantError(t, c.call(26, "proxyConfig", map[string]any{"proxy": map[string]any{"name": "web-1"}}), protocol.CodeBadRequest)
	c.sendLine(`not json at all`)
	wantError(t, c.recv(), protocol.CodeBadRequest)

	var one wireProxyConfig
	wantResult(t, c.call(30, "proxyConfig", map[string]any{"proxy": map[string]any{"namespace": "shop", "name": "web-1"}}), &one)
	if one.Proxy.ID != "web-1.shop" || len(one.Listeners) == 0 || len(one.Routes) == 0 || len(one.Clusters) == 0 || len(one.Endpoints) == 0 {
		t.Errorf("proxyConfig: proxy %+v, %d listeners %d routes %d clusters %d endpoints",
			one.Proxy, len(one.Listeners), len(one.Routes), len(one.Clusters), len(one.Endpoints))
	}
	if !strings.Contains(string(mustJSON(t, one.Clusters)), `"outbound|80||web.shop.svc.cluster.local"`) {
		t.Errorf("no outbound cluster for web")
	}

	// Istio's simulation of a call from the same proxy, over the same config.
	var simulated []session.SimulationResult
	wantResult(t, c.call(31, "simulate", map[string]any{
		"proxy": map[string]any{"namespace": "shop", "name": "web-1"},
		"calls": []map[string]any{{"mode": "OUTBOUND", "port": 80, "protocol": "HTTP", "tls": "PLAINTEXT", "host": "web.shop.svc.cluster.local"}},
	}), &simulated)
	if len(simulated) != 1 || simulated[0].Cluster != "outbound|80||web.shop.svc.cluster.local" || simulated[0].Error != "" {
		t.Errorf("simulate: %+v", simulated)
	}
	wantError(t, c.call(32, "simulate", map[string]any{"proxy": map[string]any{"namespace": "shop", "name": "nope"}}), protocol.CodeNotFound)

	// Many concurrent requests, each answered under its own id: ad-hoc proxies named after the id.
	const n = 24
	for i := range n {
		id := int64(100 + i)
		c.send(id, "proxyConfig", map[string]any{"proxy": map[string]any{
			"namespace": "shop", "name": fmt.Sprintf("p%d", id), "labels": map[string]string{"app": "web"}, "ip": fmt.Sprintf("10.1.0.%d", i+1),
		}})
	}
	seen := map[int64]bool{}
	for range n {
		r := c.recv()
		var res wireProxyConfig
		wantResult(t, r, &res)
		if want := fmt.Sprintf("p%d.shop", r.ID); res.Proxy.ID != want {
			t.Errorf("response %d is for proxy %s", r.ID, res.Proxy.ID)
		}
		if seen[r.ID] || r.ID < 100 || r.ID >= 100+n {
			t.Errorf("unexpected or repeated id %d", r.ID)
		}
		seen[r.ID] = true
		if len(res.Proxy.ServiceTargets) != 1 || res.Proxy.ServiceTargets[0] != "web.shop.svc.cluster.local:80" {
			t.Errorf("response %d: service targets %v", r.ID, res.Proxy.ServiceTargets)
		}
	}

	var proxies []session.WorkloadProxy
	wantResult(t, c.call(200, "proxies", map[string]any{}), &proxies)
	if len(proxies) != 2 || proxies[0].Name != "job" || proxies[0].Proxy != nil || proxies[1].Proxy == nil || proxies[1].Proxy.Type != "SIDECAR" {
		t.Errorf("proxies %s", mustJSON(t, proxies))
	}
	wantResult(t, c.call(201, "proxies", map[string]any{"types": map[string]string{"shop/web-1": "ROUTER"}}), &proxies)
	if len(proxies) != 2 || proxies[1].Proxy == nil || proxies[1].Proxy.Type != "ROUTER" {
		t.Errorf("proxies with types %s", mustJSON(t, proxies))
	}

	var msgs []session.Message
	wantResult(t, c.call(202, "analyze", nil), &msgs)
	for _, m := range msgs {
		if m.Level == "Error" {
			t.Errorf("analyze: %+v", m)
		}
	}

	// Still answering after all of it.
	wantResult(t, c.call(203, "version", nil), nil)
	c.close()
}

func TestLoadDiagnosticsOverProtocol(t *testing.T) {
	c := serve(t)
	snap := snapshot(t)
	snap["meshConfig"] = "{{{"
	snap["istio"] = []json.RawMessage{json.RawMessage(`{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"bad","namespace":"shop"},"spec":{"hosts":[]}}`)}
	var loaded struct {
		Diagnostics []session.Diagnostic `json:"diagnostics"`
	}
	wantResult(t, c.call(1, "load", snap), &loaded)
	kinds := map[string]string{}
	for _, d := range loaded.Diagnostics {
		kinds[d.Kind+"/"+d.Name] = d.Level
	}
	if kinds["ConfigMap/istio"] != "Error" || kinds["VirtualService/bad"] != "Error" || len(kinds) != 2 {
		t.Errorf("diagnostics %+v", loaded.Diagnostics)
	}
	wantResult(t, c.call(2, "proxyConfig", map[string]any{"proxy": map[string]any{"namespace": "shop", "name": "web-1"}}), nil)
	c.close()
}

func TestPanicIsThatRequestsError(t *testing.T) {
	orig := dispatchRequest
	t.Cleanup(func() { dispatchRequest = orig })
	dispatchRequest = func(s *Server, req protocol.Request) (any, error) {
		if req.Method == "boom" {
			var m map[string]int
			m["x"] = 1 // nil map write
		}
		return orig(s, req)
	}
	c := serve(t)
	r := c.call(7, "boom", nil)
	wantError(t, r, protocol.CodeInternal)
	if r.Error != nil && !strings.HasPrefix(r.Error.Message, "panic: ") {
		t.Errorf("message %q", r.Error.Message)
	}
	wantResult(t, c.call(8, "version", nil), nil)
	wantError(t, c.call(9, "proxies", nil), protocol.CodeNotLoaded)
	c.close()
}

func TestToError(t *testing.T) {
	for _, c := range []struct {
		err  error
		code string
	}{
		{session.ErrNoProxy, protocol.CodeNoProxy},
		{fmt.Errorf("simulate: %w", session.UnknownWorkload{Namespace: "a", Name: "b"}), protocol.CodeNotFound},
		{fmt.Errorf("%w: x", session.ErrBadProxy), protocol.CodeBadRequest},
		{badRequest{fmt.Errorf("x")}, protocol.CodeBadRequest},
		{errNotLoaded, protocol.CodeNotLoaded},
		{fmt.Errorf("istio panicked: x"), protocol.CodeInternal},
	} {
		if got := toError(c.err); got.Code != c.code || got.Message != c.err.Error() {
			t.Errorf("toError(%v) = %+v, want %s", c.err, got, c.code)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// validate needs no snapshot: one answer per object, in order.
func TestValidateOverProtocol(t *testing.T) {
	c := serve(t)
	var got struct {
		Results []admission.Result `json:"results"`
	}
	wantResult(t, c.call(1, "validate", map[string]any{"objects": []json.RawMessage{
		json.RawMessage(`{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"ok","namespace":"shop"},"spec":{"hosts":["web"],"http":[{"route":[{"destination":{"host":"web"}}]}]}}`),
		json.RawMessage(`{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"typo","namespace":"shop"},"spec":{"hosts":["web"],"htpp":[]}}`),
	}}), &got)
	if len(got.Results) != 2 || len(got.Results[0].Errors) != 0 || len(got.Results[1].Errors) != 1 ||
		!reflect.DeepEqual(got.Results[1].Errors[0].Path, []any{"spec", "htpp"}) {
		t.Errorf("validate results %+v", got.Results)
	}
	c.close()
}
