// The meshlens generator: Istio's own control-plane code, driven over newline-delimited JSON on
// stdin/stdout. One process holds one snapshot.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"

	"github.com/meshlens/meshlens/generator/internal/server"
	"github.com/meshlens/meshlens/generator/internal/session"
)

// gcPercent is the generator's GOGC unless the environment sets one. A compute job allocates
// several times its live heap in short-lived objects (istiod's generation, each answer's JSON), and
// at Go's default of 100 the collector took 12 % of its CPU on the bench mesh; at 200 about half of
// that, for a higher peak RSS (the bench mesh 490 to 642 MiB; the 50,000-pod mesh 2.5 to 3.6 GiB).
// At 300 a compute of the bench mesh took 9.6-9.8 generator CPU-s against 10.7-11.8 at 200, for a
// peak RSS of 889-947 MiB against 709-716 (alternate runs); the heap a compute leaves is returned
// when it ends (Server.endJob).
const gcPercent = 300

func main() {
	if err := session.QuietLogs(); err != nil {
		fmt.Fprintln(os.Stderr, "generator: logging:", err)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	// MESHLENS_GENERATOR_CPUPROFILE=FILE writes a CPU profile of the whole session, for `go tool pprof`;
	// a `%p` in FILE is the process id, since a server runs several generators at once.
	if path := os.Getenv("MESHLENS_GENERATOR_CPUPROFILE"); path != "" {
		if f, err := os.Create(strings.ReplaceAll(path, "%p", strconv.Itoa(os.Getpid()))); err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
			stopProfileOnSignal()
		}
	}
	if err := server.Serve(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "generator:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// stopProfileOnSignal writes the CPU profile out before the process dies of SIGTERM or SIGINT:
// the service's pool stops a generator by signal (GeneratorProcess.close), which would otherwise
// end it without running main's deferred StopCPUProfile and leave the profile empty.
func stopProfileOnSignal() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, os.Interrupt)
	go func() {
		sig := <-signals
		pprof.StopCPUProfile()
		signal.Reset()
		_ = syscall.Kill(os.Getpid(), sig.(syscall.Signal))
	}()
}
