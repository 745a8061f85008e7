package protocol

import "encoding/json"

// The wire types of the generator's snapshot session: load, proxies, proxyConfig, simulate,
// analyze, gatewayApi, gatewayDeployments, mesh and version.

// AnalysisMessage is one `istioctl analyze` message.
type AnalysisMessage struct {
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

// MeshIdentity is what the snapshot's mesh config (Istio's defaults applied) says about identities:
// the trust domain of every workload's SPIFFE principal (`spiffe://<trustDomain>/ns/<ns>/sa/<sa>`)
// and the root namespace, whose policies without a selector apply mesh-wide.
type MeshIdentity struct {
	TrustDomain        string   `json:"trustDomain"`
	TrustDomainAliases []string `json:"trustDomainAliases"`
	RootNamespace      string   `json:"rootNamespace"`
}

// PortMTLS is the mTLS mode of one port of a workload, and the PeerAuthentication that decides it.
type PortMTLS struct {
	Mode               string     `json:"mode"`
	PeerAuthentication *ObjectRef `json:"peerAuthentication"`
}

// PeerAuthn is the PeerAuthentication in force for a workload, as istiod resolves it when it builds
// the workload's inbound listener: the policies that select it
// (AuthnPolicies.GetPeerAuthenticationsForWorkload) merged by Istio's authn applier
// (authn.ComposePeerAuthentication): workload over namespace over mesh, the oldest of a scope,
// UNSET inheriting from the scope above, port-level settings overriding the workload's.
type PeerAuthn struct {
	// Mode is the workload's mode (STRICT, PERMISSIVE or DISABLE): PERMISSIVE when no policy sets one.
	Mode string `json:"mode"`
	// PeerAuthentication is the policy whose mode is Mode; null for Istio's default (PERMISSIVE).
	PeerAuthentication *ObjectRef `json:"peerAuthentication"`
	// Ports are the workload policy's port-level settings, by port number.
	Ports map[string]PortMTLS `json:"ports"`
	// Policies are every PeerAuthentication that selects the workload, mesh first, then namespace, then workload.
	Policies []ObjectRef `json:"policies"`
	// RootNamespace is where mesh-wide policies live.
	RootNamespace string `json:"rootNamespace"`
}

// ProxyConfig is what istiod pushes to one proxy, each object as Envoy v3 proto3 JSON.
type ProxyConfig struct {
	Listeners []json.RawMessage `json:"listeners"`
	Routes    []json.RawMessage `json:"routes"`
	Clusters  []json.RawMessage `json:"clusters"`
	Endpoints []json.RawMessage `json:"endpoints"`
}

// JobObject is one object of a compute job's answer (hashedProxyConfig): its index in the job
// (Ref: 0, 1, 2, … in the order of the answers that first carry each object, as they are
// written), and in the one answer that first carries it its name (Envoy's key of it: a
// ClusterLoadAssignment's cluster_name) and its proto3 JSON in canonical form (AppendCanonical:
// the job stores and hashes those bytes as they are, parsing only the objects it reads). A later
// answer of the same job names it by Ref alone: the job reads its answers in the order they are
// written.
type JobObject struct {
	Ref    int             `json:"ref"`
	Name   string          `json:"name,omitempty"`
	Object json.RawMessage `json:"object,omitempty"`
}

// JobProxyConfig is ProxyConfig as a compute job receives it, each object a JobObject, in the
// same order.
type JobProxyConfig struct {
	Listeners []JobObject `json:"listeners"`
	Routes    []JobObject `json:"routes"`
	Clusters  []JobObject `json:"clusters"`
	Endpoints []JobObject `json:"endpoints"`
}

// DeploymentsInput is what istiod's gateway deployment controller reads: the snapshot's Kubernetes
// objects (Gateway API objects among them; existing Deployments and Services are left alone) and
// its mesh config.
type DeploymentsInput struct {
	Kubernetes []json.RawMessage `json:"kubernetes"`
	MeshConfig string            `json:"meshConfig"`
}

// Deployed is one object istiod's deployment controller would apply for a Gateway.
type Deployed struct {
	Gateway ObjectRef       `json:"gateway"`
	Object  json.RawMessage `json:"object"`
}

// Condition is one status condition istiod writes on a Gateway API object.
type Condition struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
	// Parent names the parent of a route the condition is about ("Gateway shop/edge"), Listener
	// the Gateway listener ("https"); both empty for the object itself.
	Parent   string `json:"parent,omitempty"`
	Listener string `json:"listener,omitempty"`
}

// GatewayStatus is the status istiod would write on one Gateway API object.
type GatewayStatus struct {
	Kind       string          `json:"kind"`
	Namespace  string          `json:"namespace"`
	Name       string          `json:"name"`
	Conditions []Condition     `json:"conditions"`
	Status     json.RawMessage `json:"status"`
}

// RouteParents is one VirtualService istiod derived from Gateway API routes, with those routes.
type RouteParents struct {
	Namespace string      `json:"namespace"`
	Name      string      `json:"name"`
	Routes    []ObjectRef `json:"routes"`
}

// ObjectRef names a Kubernetes object.
type ObjectRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// GatewayAPI is what istiod derives from the Gateway API objects of a snapshot.
type GatewayAPI struct {
	Status []GatewayStatus `json:"status"`
	// VirtualServices are the internal VirtualServices istiod generates, naming the routes each
	// comes from: Envoy routes carry the VirtualService in their metadata, and the route rule's
	// position in their name (`<namespace>.<name>.<rule>`).
	VirtualServices []RouteParents `json:"virtualServices"`
}

// ProxyInfo is a proxy as istiod sees it once it has connected.
type ProxyInfo struct {
	ID              string            `json:"id"`
	Type            string            `json:"type"` // SIDECAR or ROUTER
	Namespace       string            `json:"namespace"`
	ConfigNamespace string            `json:"configNamespace"`
	Labels          map[string]string `json:"labels"`
	IPs             []string          `json:"ips"`
	IstioVersion    string            `json:"istioVersion"`
	// ServiceTargets are the `host:port` of every service port this proxy serves, sorted.
	ServiceTargets []string `json:"serviceTargets"`
	// Sidecar is the Sidecar resource scoping this proxy (namespace/name), "" for the default scope.
	Sidecar string `json:"sidecar,omitempty"`
}

// WorkloadProxy is one pod of the snapshot: its proxy, or why it has none.
type WorkloadProxy struct {
	Namespace string     `json:"namespace"`
	Name      string     `json:"name"`
	Kind      string     `json:"kind"`
	Proxy     *ProxyInfo `json:"proxy,omitempty"`
	Error     string     `json:"error,omitempty"`
}

// ProxyInput names an existing workload (namespace + name) or describes an ad-hoc proxy.
type ProxyInput struct {
	Namespace    string            `json:"namespace"`
	Name         string            `json:"name,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	IP           string            `json:"ip,omitempty"`
	IPs          []string          `json:"ips,omitempty"`
	Type         string            `json:"type,omitempty"` // SIDECAR, ROUTER or NONE
	IstioVersion string            `json:"istioVersion,omitempty"`
	// Metadata is further node metadata, as istio-proxy reports it (DNS_CAPTURE, CLUSTER_ID, ...).
	// DNS_DOMAIN is not node metadata in istio-proxy but the last part of the node ID; it is accepted here.
	Metadata map[string]any `json:"metadata,omitempty"`
}

// LoadParams is a normalised snapshot: the objects a cluster's API server would hold.
type LoadParams struct {
	Kubernetes []json.RawMessage `json:"kubernetes"`
	Istio      []json.RawMessage `json:"istio"`
	// Analysis holds the snapshot's other objects a cluster would hold (Deployments, webhook
	// configurations, Telemetry, ...): only Istio's analyzers read them. Secrets, stored without
	// their values, are in Kubernetes: istiod's gateway controller checks Gateway certificates.
	Analysis []json.RawMessage `json:"analysis,omitempty"`
	// MeshConfig is the `mesh` key of ConfigMap istio in the root namespace; "" means Istio's defaults.
	MeshConfig string `json:"meshConfig"`
	// ProxyTypes gives each pod's proxy type (namespace/name -> SIDECAR, ROUTER or NONE) as injection
	// and gateway selectors decide it; a pod not listed is a sidecar, or a router if it runs one.
	ProxyTypes map[string]string `json:"proxyTypes,omitempty"`
	// Kinds gives each pod's workload kind (namespace/name -> Pod, or the controller standing for
	// its absent pods: Deployment, StatefulSet, ...); a pod not listed is a Pod.
	Kinds map[string]string `json:"kinds,omitempty"`
}

// Diagnostic is a problem with one object of the snapshot; the object is left out, the session lives on.
type Diagnostic struct {
	Level     string `json:"level"`
	Kind      string `json:"kind,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	Message   string `json:"message"`
}

// SimulationCall is one request as Istio's traffic simulation (pilot/pkg/simulation) takes it, with
// the service's names for its modes (OUTBOUND, INBOUND, GATEWAY; HTTP, HTTP2, TCP; PLAINTEXT, TLS,
// MTLS). The simulation matches routes on the path only: it has no headers, methods or queries.
type SimulationCall struct {
	Mode     string `json:"mode"`
	Address  string `json:"address,omitempty"`
	Port     int    `json:"port"`
	Protocol string `json:"protocol"`
	TLS      string `json:"tls"`
	Host     string `json:"host,omitempty"`
	SNI      string `json:"sni,omitempty"`
	ALPN     string `json:"alpn,omitempty"`
	Path     string `json:"path,omitempty"`
}

// SimulationResult is what the simulation decides: the names it matched, or its error's text
// (simulation.ErrNoListener and the others, e.g. "no filter chains matched"); "" where it decided nothing.
type SimulationResult struct {
	Listener    string `json:"listener"`
	FilterChain string `json:"filterChain"`
	RouteConfig string `json:"routeConfig"`
	VirtualHost string `json:"virtualHost"`
	Route       string `json:"route"`
	Cluster     string `json:"cluster"`
	Error       string `json:"error"`
}

// VersionInfo names the embedded Istio.
type VersionInfo struct {
	Istio  string `json:"istio"`  // the release line, as proxies report it
	Module string `json:"module"` // istio.io/istio module version the generator was built with
}
