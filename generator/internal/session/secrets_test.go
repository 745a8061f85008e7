package session

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"
)

// A stored gateway credential's stand-in certificate comes with its own private key, so that
// istiod's gateway controller (tls.X509KeyPair) accepts it as it accepted the real pair.
func TestStandInCertificateGoesWithItsKey(t *testing.T) {
	facts, _ := json.Marshal(secretFacts{Certificates: map[string]*[]validity{
		"tls.crt": {{NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}},
	}})
	secret := map[string]any{
		"metadata": map[string]any{"annotations": map[string]any{SecretFactsAnnotation: string(facts)}},
		"data":     map[string]any{"tls.crt": "", "tls.key": "", "other": ""},
	}
	withStandInData(secret)
	data := secret["data"].(map[string]any)
	decode := func(key string) []byte {
		out, err := base64.StdEncoding.DecodeString(data[key].(string))
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		return out
	}
	if _, err := tls.X509KeyPair(decode("tls.crt"), decode("tls.key")); err != nil {
		t.Fatalf("stand-in pair refused: %v", err)
	}
	if data["other"] != standInValue {
		t.Fatalf("other: %v", data["other"])
	}
}

// An empty private key stays empty: Istio reports it as it would the real one.
func TestStandInKeepsAnEmptyKeyEmpty(t *testing.T) {
	facts, _ := json.Marshal(secretFacts{EmptyKeys: []string{"tls.key"}, Certificates: map[string]*[]validity{
		"tls.crt": {{NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}},
	}})
	secret := map[string]any{
		"metadata": map[string]any{"annotations": map[string]any{SecretFactsAnnotation: string(facts)}},
		"data":     map[string]any{"tls.crt": "", "tls.key": ""},
	}
	withStandInData(secret)
	if key := secret["data"].(map[string]any)["tls.key"]; key != "" {
		t.Fatalf("tls.key: %v", key)
	}
}
