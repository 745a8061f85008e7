// The meshlens generator: Istio's own control-plane code, driven over newline-delimited JSON on
// stdin/stdout. One process holds one snapshot.
package main

import (
	"fmt"
	"os"

	"github.com/meshlens/meshlens/generator/internal/server"
	"github.com/meshlens/meshlens/generator/internal/session"
)

func main() {
	if err := session.QuietLogs(); err != nil {
		fmt.Fprintln(os.Stderr, "generator: logging:", err)
	}
	if err := server.Serve(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "generator:", err)
		os.Exit(1)
	}
}
