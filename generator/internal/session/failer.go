package session

import (
	"fmt"
	"os"
	"sync"
)

// failer satisfies Istio's test.Failer, which its in-memory discovery server requires, outside of a
// Go test: a fatal error becomes a panic carrying a fatalError, recovered by the caller, instead of
// ending a test; cleanups run when the session closes.
type failer struct {
	mu       sync.Mutex
	cleanups []func()
}

type fatalError struct{ msg string }

func (e fatalError) Error() string { return e.msg }

func (f *failer) Fail()                          { panic(fatalError{"failed"}) }
func (f *failer) FailNow()                       { panic(fatalError{"failed"}) }
func (f *failer) Fatal(args ...any)              { panic(fatalError{fmt.Sprint(args...)}) }
func (f *failer) Fatalf(format string, a ...any) { panic(fatalError{fmt.Sprintf(format, a...)}) }
func (f *failer) Log(args ...any)                {}
func (f *failer) Logf(format string, a ...any)   {}
func (f *failer) Helper()                        {}
func (f *failer) Skip(args ...any)               { panic(fatalError{"skipped: " + fmt.Sprint(args...)}) }

func (f *failer) TempDir() string {
	dir, err := os.MkdirTemp("", "meshlens-generator-")
	if err != nil {
		panic(fatalError{err.Error()})
	}
	f.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func (f *failer) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

// close runs the cleanups in reverse order, as testing.T does.
func (f *failer) close() {
	f.mu.Lock()
	fns := f.cleanups
	f.cleanups = nil
	f.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}
