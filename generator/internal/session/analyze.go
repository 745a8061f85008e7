package session

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"istio.io/istio/pkg/config/analysis/analyzers"
	"istio.io/istio/pkg/config/analysis/diag"
	"istio.io/istio/pkg/config/analysis/local"
	"istio.io/istio/pkg/config/resource"
)

// Message is one `istioctl analyze` message.
type Message struct {
	Code      string `json:"code"`
	Level     string `json:"level"`
	Message   string `json:"message"`
	Kind      string `json:"kind,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	// Origin is how istioctl names the resource, e.g. "VirtualService default/reviews".
	Origin string `json:"origin,omitempty"`
	// Text is the whole line istioctl prints.
	Text string `json:"text"`
}

// Analyze runs Istio's analyzers the way `istioctl analyze --use-kube=false -A` runs them over
// files: every analyzer, Istio's default resources added, the snapshot's mesh config, and every
// message at Info level or above, sorted and de-duplicated.
func (s *Session) Analyze() (msgs []Message, err error) {
	defer recoverFatal(&err)
	sa := local.NewIstiodAnalyzer(analyzers.AllCombined(), resource.Namespace(""),
		resource.Namespace(s.mesh.GetRootNamespace()), nil)
	if strings.TrimSpace(s.input.MeshConfig) != "" {
		dir := s.failer.TempDir()
		file := filepath.Join(dir, "mesh.yaml")
		if err := os.WriteFile(file, []byte(s.input.MeshConfig), 0o600); err != nil {
			return nil, err
		}
		if err := sa.AddFileKubeMeshConfig(file); err != nil {
			return nil, err
		}
	}
	if err := sa.AddDefaultResources(); err != nil {
		return nil, err
	}
	var readers []local.ReaderSource
	for _, group := range [][]json.RawMessage{s.input.Kubernetes, s.input.Istio} {
		for _, raw := range group {
			m := peekMeta(raw)
			readers = append(readers, local.ReaderSource{
				Name:   strings.Join([]string{m.Kind, m.Metadata.Namespace, m.Metadata.Name}, "/"),
				Reader: bytes.NewReader(raw),
			})
		}
	}
	if len(readers) > 0 {
		// Objects istioctl cannot read are already reported by Load; analysis goes on without them.
		_ = sa.AddReaderKubeSource(readers)
	}
	cancel := make(chan struct{})
	defer close(cancel)
	result, err := sa.Analyze(cancel)
	if err != nil {
		return nil, err
	}
	filtered := result.Messages.SetDocRef("istioctl-analyze").FilterOutLowerThan(diag.Info)
	out := filtered.SortedDedupedCopy()
	msgs = make([]Message, 0, len(out))
	for i := range out {
		m := &out[i]
		msg := Message{Code: m.Type.Code(), Level: m.Type.Level().String(), Text: m.String()}
		msg.Message = strings.TrimPrefix(m.String(), m.Type.Level().String()+" ["+m.Type.Code()+"]"+m.Origin()+" ")
		if r := m.Resource; r != nil {
			msg.Kind = r.Metadata.Schema.Kind()
			msg.Namespace = r.Metadata.FullName.Namespace.String()
			msg.Name = r.Metadata.FullName.Name.String()
			msg.Origin = r.Origin.FriendlyName()
		}
		msgs = append(msgs, msg)
	}
	return msgs, nil
}
