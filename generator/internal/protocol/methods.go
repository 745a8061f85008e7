package protocol

import "encoding/json"

// ValidateParams are the params of the generator's `validate` method: the objects to admit, in order.
type ValidateParams struct {
	Objects []json.RawMessage `json:"objects"`
}

// ProxiesParams are the params of the generator's `proxies` method.
type ProxiesParams struct {
	// Types overrides the proxy type of pods (namespace/name -> SIDECAR, ROUTER or NONE), as the
	// service decides injection from namespace labels, annotations and gateway selectors.
	Types map[string]string `json:"types,omitempty"`
}

// ProxyParams are the params of proxyConfig and of the methods asking about one proxy.
type ProxyParams struct {
	Proxy ProxyInput `json:"proxy"`
}

// HashedConfigParams are the params of hashedProxyConfig: a proxy, and the compute job asking.
type HashedConfigParams struct {
	Proxy ProxyInput `json:"proxy"`
	// Job names the caller's compute job: an object sent in an earlier answer to the same job (in
	// this generator process: another process numbers the job's objects anew) is named by its
	// ref only. The caller reads the answers in the order they are written, and ends the job with
	// endJob.
	Job string `json:"job"`
}

// EndJobParams are the params of endJob: the job whose sent objects the generator forgets.
type EndJobParams struct {
	Job string `json:"job"`
}

// SimulateParams are the params of simulate: a proxy and the calls to walk through its config.
type SimulateParams struct {
	Proxy ProxyInput       `json:"proxy"`
	Calls []SimulationCall `json:"calls"`
}

// LoadResult answers load: what Istio said of the snapshot, and how many pods it holds.
type LoadResult struct {
	Diagnostics []Diagnostic `json:"diagnostics"`
	Pods        int          `json:"pods"`
}

// ProxyConfigResult answers proxyConfig: the proxy, and its generated xDS resources as proto3 JSON.
type ProxyConfigResult struct {
	Proxy ProxyInfo `json:"proxy"`
	*ProxyConfig
}

// JobAnswer answers hashedProxyConfig: the proxy (its JSON, as encoding/json writes a
// ProxyInfo), and its generated xDS resources by ref. Written by AppendJobAnswer.
type JobAnswer struct {
	Proxy json.RawMessage `json:"proxy"`
	JobProxyConfig
}

// ValidateResult answers validate: one result per object, in the order of the request.
type ValidateResult struct {
	Results []AdmissionResult `json:"results"`
}

// ChangedObject names an object of the generator's input (LoadParams' kubernetes and istio
// objects) that differs between two snapshots of a mesh: added, removed or changed.
type ChangedObject struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

// ConfigKey is istiod's model.ConfigKey: what a push request says changed (kind as Istio names it;
// a Service or ServiceEntry by hostname).
type ConfigKey struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// PushScopeParams are the params of pushScope: the objects that changed since another snapshot,
// the config keys the other snapshot's session found for them, and the proxies to decide for.
type PushScopeParams struct {
	Changed []ChangedObject `json:"changed"`
	Keys    []ConfigKey     `json:"keys,omitempty"`
	Proxies []ProxyInput    `json:"proxies"`
	// Fingerprints are the other snapshot's PushScopeResult.Fingerprints: a changed pod whose
	// endpoints, or a changed Namespace whose fields istiod reads, are the same here is no change to
	// anyone else's config.
	Fingerprints map[string]string `json:"fingerprints,omitempty"`
}

// PushScopeResult answers pushScope: the config keys istiod's controllers would put in the push
// request for the changed objects as this snapshot has them, whether the change forces a push to
// every proxy, and, per proxy of the params, whether istiod would push it.
type PushScopeResult struct {
	Forced   bool        `json:"forced"`
	Keys     []ConfigKey `json:"keys"`
	Affected []bool      `json:"affected"`
	// Fingerprints are, per changed pod or Namespace this snapshot has (by kind/namespace/name),
	// what istiod reads of it: a pod's endpoints for the Services selecting it (what its EDS
	// updates compare), a Namespace's fields its controllers read.
	Fingerprints map[string]string `json:"fingerprints"`
}
