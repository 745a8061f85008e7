package session

import "runtime/debug"

// DefaultIstioVersion is what a proxy reports when the caller names no version: the release line
// of the embedded Istio (generator/ISTIO_VERSION).
const DefaultIstioVersion = "1.31.0"

// VersionInfo names the embedded Istio.
type VersionInfo struct {
	Istio  string `json:"istio"`  // the release line, as proxies report it
	Module string `json:"module"` // istio.io/istio module version the generator was built with
}

func Version() VersionInfo {
	v := VersionInfo{Istio: DefaultIstioVersion}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "istio.io/istio" {
				v.Module = dep.Version
			}
		}
	}
	return v
}
