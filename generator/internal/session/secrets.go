package session

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"time"
)

// SecretFactsAnnotation is where ingest leaves, on a stored Secret, what it checked of the values
// before dropping them (the values themselves are never stored): the keys whose value was empty,
// and the validity of the certificates of the keys Istio reads gateway certificates from.
const SecretFactsAnnotation = "meshlens.io/secret-facts"

// secretFacts is the annotation's JSON.
type secretFacts struct {
	EmptyKeys []string `json:"emptyKeys,omitempty"`
	// Certificates, by key: the validity of each certificate of the value's first PEM block, or
	// null when that block is not a certificate.
	Certificates map[string]*[]validity `json:"certificates,omitempty"`
}

type validity struct {
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
}

// standInValue stands for a value ingest saw but did not keep: not empty, and no certificate.
var standInValue = base64.StdEncoding.EncodeToString([]byte("value not stored by meshlens"))

// notACertificate stands for a first PEM block that was not a certificate.
var notACertificate = base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not a certificate")}))

// withStandInData gives a stored Secret (key names, no values) stand-in values that Istio's checks
// judge as they judged the real ones at ingest: empty keys empty, a certificate replaced by a
// self-signed one with the same validity (so expiry is judged at analysis time, as istioctl does),
// the private key of a certificate by that of its stand-in, any other value by a placeholder. Without facts (a Secret stored before they were recorded), every
// value counts as present and every certificate as valid: nothing is reported that was not checked.
func withStandInData(secret map[string]any) {
	data, _ := secret["data"].(map[string]any)
	facts, known := factsOf(secret)
	if !known {
		now := time.Now()
		facts.Certificates = map[string]*[]validity{}
		for _, key := range []string{"cert", "tls.crt"} {
			facts.Certificates[key] = &[]validity{{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour)}}
		}
	}
	empty := map[string]bool{}
	for _, k := range facts.EmptyKeys {
		empty[k] = true
	}
	// istiod checks a certificate against the private key stored next to it (tls.X509KeyPair): a
	// stand-in certificate's key stands in for that one.
	standInKeys := map[string]string{}
	for key := range data {
		switch certs, isCert := facts.Certificates[key]; {
		case empty[key]:
			data[key] = ""
		case isCert && certs == nil:
			data[key] = notACertificate
		case isCert:
			cert, privateKey := standInCertificates(*certs)
			data[key] = base64.StdEncoding.EncodeToString(cert)
			standInKeys[privateKeyOf[key]] = base64.StdEncoding.EncodeToString(privateKey)
		default:
			data[key] = standInValue
		}
	}
	for key, value := range standInKeys {
		if _, present := data[key]; present && !empty[key] {
			data[key] = value
		}
	}
}

// privateKeyOf is the key of a Secret holding the private key of the certificate of a key
// (pilot/pkg/credentials/kube: `cert` and `key`, `tls.crt` and `tls.key`).
var privateKeyOf = map[string]string{"cert": "key", "tls.crt": "tls.key"}

func factsOf(secret map[string]any) (facts secretFacts, known bool) {
	meta, _ := secret["metadata"].(map[string]any)
	annotations, _ := meta["annotations"].(map[string]any)
	text, known := annotations[SecretFactsAnnotation].(string)
	if known {
		_ = json.Unmarshal([]byte(text), &facts)
	}
	return facts, known
}

// standInCertificates is one PEM block of self-signed certificates with the given validity, and
// the PEM of the private key they are made with.
func standInCertificates(windows []validity) (certificates, privateKey []byte) {
	var der []byte
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(fatalError{"generating a stand-in certificate key: " + err.Error()})
	}
	for i, w := range windows {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(int64(i + 1)),
			Subject:      pkix.Name{CommonName: "meshlens stand-in"},
			NotBefore:    w.NotBefore,
			NotAfter:     w.NotAfter,
		}
		cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			panic(fatalError{"generating a stand-in certificate: " + err.Error()})
		}
		der = append(der, cert...)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		panic(fatalError{"encoding a stand-in certificate key: " + err.Error()})
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}
