package protocol

// ProxyFacts answers proxyFacts: what istiod's config generation reads about one proxy besides the
// snapshot, without generating its config. Two proxies with equal facts but for the identity
// (ID, IPs: only their address families count) get the same config from istiod, but where it
// writes the proxy's own identity into it; the service compares an ad-hoc proxy's facts with
// those of a stored proxy class's workload to read that class's config instead of generating.
type ProxyFacts struct {
	Proxy ProxyInfo `json:"proxy"`
	// ServicePorts are the `host:port:targetPort` of every service target, sorted: the target port
	// (resolved through the pod's container ports or POD_PORTS) makes the inbound listeners.
	ServicePorts []string `json:"servicePorts"`
	// DNSDomain is the last part of the node ID.
	DNSDomain string `json:"dnsDomain"`
	// Metadata is the node metadata istio-proxy would send (istiod reads any of it: EnvoyFilter
	// workload matches compare raw keys), less what names the instance: INSTANCE_IPS and WORKLOAD_NAME.
	Metadata map[string]any `json:"metadata"`
}
