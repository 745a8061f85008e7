package session

import (
	"reflect"
	"testing"
)

// An ad-hoc proxy describing a pod as istio-proxy reports it has the pod's facts but for the
// identity; one label or one piece of metadata more or less, and the facts differ.
func TestFacts(t *testing.T) {
	s := loadShop(t)
	// The identity aside (ID, addresses): what a proxy's generation reads.
	shared := func(in ProxyInput) map[string]any {
		f := Facts(mustProxy(t, s, in))
		f.Proxy.ID, f.Proxy.IPs = "", nil
		return map[string]any{"proxy": f.Proxy, "servicePorts": f.ServicePorts, "dnsDomain": f.DNSDomain, "metadata": f.Metadata}
	}
	named := shared(ProxyInput{Namespace: "shop", Name: "reviews-v1-abc"})
	podMetadata := map[string]any{
		"SERVICE_ACCOUNT":   "reviews",
		"NODE_NAME":         "",
		"INTERCEPTION_MODE": "REDIRECT",
		"POD_PORTS":         `[{"containerPort":9080,"name":"http-web","protocol":"TCP"}]`,
	}
	labels := map[string]string{"app": "reviews", "version": "v1"}

	if got := Facts(mustProxy(t, s, ProxyInput{Namespace: "shop", Name: "reviews-v1-abc"})); !reflect.DeepEqual(got.ServicePorts, []string{reviewsHost + ":80:9080"}) {
		t.Errorf("service ports = %v, want the Service port with the container port its named targetPort resolves to", got.ServicePorts)
	}
	if got := shared(ProxyInput{Namespace: "shop", Labels: labels, IP: "10.9.9.9", Metadata: podMetadata}); !reflect.DeepEqual(got, named) {
		t.Errorf("ad-hoc proxy describing the pod:\n %+v\nwant the pod's\n %+v", got, named)
	}
	for name, in := range map[string]ProxyInput{
		"another label value": {Namespace: "shop", Labels: map[string]string{"app": "reviews", "version": "v2"}, Metadata: podMetadata},
		"no metadata":         {Namespace: "shop", Labels: labels},
		"another namespace":   {Namespace: "default", Labels: labels, Metadata: podMetadata},
		"a router":            {Namespace: "shop", Labels: labels, Metadata: podMetadata, Type: "ROUTER"},
	} {
		if got := shared(in); reflect.DeepEqual(got, named) {
			t.Errorf("%s: facts equal to the pod's: %+v", name, got)
		}
	}
}
