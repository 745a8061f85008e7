package session

import (
	"runtime/debug"

	"github.com/meshlens/meshlens/generator/internal/protocol"
)

// The wire types of this package live in the protocol package with the rest of the
// generator's wire format; these are their names here.
type (
	VersionInfo = protocol.VersionInfo
)

// DefaultIstioVersion is what a proxy reports when the caller names no version: the release line
// of the embedded Istio (generator/ISTIO_VERSION).
const DefaultIstioVersion = "1.31.0"

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
