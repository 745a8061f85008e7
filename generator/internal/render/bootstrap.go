package render

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"

	"istio.io/istio/pkg/bootstrap"
	"istio.io/istio/pkg/bootstrap/platform"
	"istio.io/istio/pkg/config/mesh"
	"istio.io/istio/pkg/util/protomarshal"
)

// bootstrapTemplate is istio-proxy's bootstrap template (tools/packaging/common/envoy_bootstrap.json
// of the pinned Istio), which istio-agent renders with pkg/bootstrap as this file does.
//
//go:embed envoy_bootstrap.json
var bootstrapTemplate []byte

var templatePath = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "meshlens-bootstrap-")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "envoy_bootstrap.json")
	return path, os.WriteFile(path, bootstrapTemplate, 0o600)
})

// RenderedBootstrap is the bootstrap Envoy starts with, and its static resources.
type RenderedBootstrap struct {
	JSON      json.RawMessage
	Listeners []json.RawMessage
	Clusters  []json.RawMessage
}

// Bootstrap renders the proxy's bootstrap as istio-agent does in an injected istio-proxy container
// (default ProxyConfig, the injector's ISTIO_META_* environment).
func Bootstrap(p Proxy) (*RenderedBootstrap, error) {
	path, err := templatePath()
	if err != nil {
		return nil, err
	}
	ns := p.Namespace
	if ns == "" {
		ns = "default"
	}
	ip := "10.0.0.1"
	if len(p.IPs) > 0 {
		ip = p.IPs[0]
	}
	kind := "sidecar"
	if p.Type == "ROUTER" {
		kind = "router"
	}
	id := p.ID
	if id == "" {
		id = "proxy." + ns
	}
	envs := []string{
		"ISTIO_META_CLUSTER_ID=Kubernetes",
		"ISTIO_META_MESH_ID=cluster.local",
		"ISTIO_META_INTERCEPTION_MODE=REDIRECT",
		"ISTIO_META_NAMESPACE=" + ns,
		"POD_NAME=" + strings.TrimSuffix(id, "."+ns),
		"POD_NAMESPACE=" + ns,
	}
	if p.IstioVersion != "" {
		envs = append(envs, "ISTIO_META_ISTIO_VERSION="+p.IstioVersion)
	}
	if len(p.Labels) > 0 {
		labels, _ := json.Marshal(p.Labels)
		envs = append(envs, "ISTIO_METAJSON_LABELS="+string(labels))
	}
	proxyConfig := mesh.DefaultProxyConfig()
	node, err := bootstrap.GetNodeMetaData(bootstrap.MetadataOptions{
		ID:                         fmt.Sprintf("%s~%s~%s~%s.svc.cluster.local", kind, ip, id, ns),
		Envs:                       envs,
		Platform:                   &platform.Unknown{},
		InstanceIPs:                p.IPs,
		ProxyConfig:                proxyConfig,
		PilotSubjectAltName:        []string{"spiffe://cluster.local/ns/istio-system/sa/istiod"},
		OutlierLogPath:             "",
		EnvoyPrometheusPort:        15090,
		EnvoyStatusPort:            15021,
		WorkloadIdentitySocketFile: "socket",
	})
	if err != nil {
		return nil, err
	}
	var rendered bytes.Buffer
	if err := bootstrap.New(bootstrap.Config{Node: node}).WriteTo(path, &rendered); err != nil {
		return nil, err
	}
	// As proto3 JSON when every type in it is known (it is, in the generator), else as rendered.
	body := rendered.Bytes()
	b := &bootstrapv3.Bootstrap{}
	if err := protomarshal.UnmarshalAllowUnknown(body, b); err == nil {
		if camel, err := protomarshal.Marshal(b); err == nil {
			body = camel
		}
	}
	var statics struct {
		Camel *struct {
			Listeners []json.RawMessage `json:"listeners"`
			Clusters  []json.RawMessage `json:"clusters"`
		} `json:"staticResources"`
		Snake *struct {
			Listeners []json.RawMessage `json:"listeners"`
			Clusters  []json.RawMessage `json:"clusters"`
		} `json:"static_resources"`
	}
	if err := json.Unmarshal(body, &statics); err != nil {
		return nil, fmt.Errorf("the rendered bootstrap is not JSON: %v", err)
	}
	out := &RenderedBootstrap{JSON: body}
	for _, s := range []*struct {
		Listeners []json.RawMessage `json:"listeners"`
		Clusters  []json.RawMessage `json:"clusters"`
	}{statics.Camel, statics.Snake} {
		if s != nil {
			out.Listeners = append(out.Listeners, s.Listeners...)
			out.Clusters = append(out.Clusters, s.Clusters...)
		}
	}
	return out, nil
}
