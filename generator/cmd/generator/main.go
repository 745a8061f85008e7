// The meshlens generator: Istio's own control-plane code, driven over newline-delimited JSON on
// stdin/stdout. One process holds one snapshot.
package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/meshlens/meshlens/generator/internal/server"
	"github.com/meshlens/meshlens/generator/internal/session"
)

func main() {
	if err := session.QuietLogs(); err != nil {
		fmt.Fprintln(os.Stderr, "generator: logging:", err)
	}
	// MESHLENS_GENERATOR_CPUPROFILE=FILE writes a CPU profile of the whole session, for `go tool pprof`.
	if path := os.Getenv("MESHLENS_GENERATOR_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	if err := server.Serve(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "generator:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}
