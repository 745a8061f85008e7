// Package server answers protocol requests for one snapshot session.
package server

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/meshlens/meshlens/generator/internal/admission"
	"github.com/meshlens/meshlens/generator/internal/protocol"
	"github.com/meshlens/meshlens/generator/internal/session"
)

// MaxLine bounds one request line; a snapshot of a large mesh is one line.
const MaxLine = 1 << 30

type Server struct {
	// out encodes answers to w; a compute job's are written to w directly (protocol.AppendJobAnswer).
	w       io.Writer
	out     *json.Encoder
	outMu   sync.Mutex
	answer  []byte // the compute job answers' buffer, reused until the last job ends
	session *session.Session
	// jobs are the compute jobs asking hashedProxyConfig, by name: what each has been sent.
	jobs   map[string]*session.Sent
	jobsMu sync.Mutex
}

// Serve reads requests until in closes. `load` runs alone; other requests run concurrently, as
// istiod generates for many proxies at once from one push context.
func Serve(in io.Reader, out io.Writer) error {
	s := &Server{w: out, out: json.NewEncoder(out), jobs: map[string]*session.Sent{}}
	go admission.Warm()
	defer func() {
		if s.session != nil {
			s.session.Close()
		}
	}()
	scanner := bufio.NewScanner(in)
	scanner.Buffer(make([]byte, 1<<20), MaxLine)
	var wg sync.WaitGroup
	slots := make(chan struct{}, runtime.GOMAXPROCS(0))
	for scanner.Scan() {
		var req protocol.Request
		if err := json.Unmarshal(scanner.Bytes(), &req); err != nil {
			s.reply(protocol.Response{Error: &protocol.Error{Code: protocol.CodeBadRequest, Message: "request is not JSON: " + err.Error()}})
			continue
		}
		if req.Method == "load" {
			wg.Wait()
			s.reply(s.handle(req))
			continue
		}
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			s.reply(s.handle(req))
		}()
	}
	wg.Wait()
	return scanner.Err()
}

// reply writes one answer; a compute job's answer is settled (Hashed.Commit) in the order of writing.
func (s *Server) reply(r protocol.Response) {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	if h, ok := r.Result.(*session.Hashed); ok {
		s.answer = protocol.AppendJobAnswer(s.answer[:0], r.ID, h.Commit())
		_, _ = s.w.Write(s.answer)
		return
	}
	_ = s.out.Encode(r)
}

// job is what the named compute job has been sent, created on its first answer.
func (s *Server) job(name string) *session.Sent {
	s.jobsMu.Lock()
	defer s.jobsMu.Unlock()
	sent := s.jobs[name]
	if sent == nil {
		sent = session.NewSent()
		s.jobs[name] = sent
	}
	return sent
}

func (s *Server) endJob(name string) {
	s.jobsMu.Lock()
	defer s.jobsMu.Unlock()
	delete(s.jobs, name)
	// The answers' buffer grows to the largest answer (tens of MB on a big mesh): a session that
	// stays for queries after its compute job does not keep it, nor the garbage the job left,
	// which the collector (GOGC 300) would otherwise hold until the session's next cycle.
	if len(s.jobs) == 0 {
		s.outMu.Lock()
		s.answer = nil
		s.outMu.Unlock()
		go debug.FreeOSMemory()
	}
}

// handle answers one request; a panic anywhere below is that request's error, not the session's end.
func (s *Server) handle(req protocol.Request) (resp protocol.Response) {
	resp.ID = req.ID
	defer func() {
		if r := recover(); r != nil {
			resp.Result = nil
			resp.Error = &protocol.Error{Code: protocol.CodeInternal, Message: fmt.Sprintf("panic: %v\n%s", r, debug.Stack())}
		}
	}()
	result, err := dispatchRequest(s, req)
	if err != nil {
		resp.Error = toError(err)
		return resp
	}
	resp.Result = result
	return resp
}

// dispatchRequest is (*Server).dispatch, a variable only so that a test can make a request panic.
var dispatchRequest = (*Server).dispatch

type badRequest struct{ error }

func toError(err error) *protocol.Error {
	var br badRequest
	var unknown session.UnknownWorkload
	switch {
	case errors.As(err, &unknown):
		return &protocol.Error{Code: protocol.CodeNotFound, Message: err.Error()}
	case errors.Is(err, session.ErrNoProxy):
		return &protocol.Error{Code: protocol.CodeNoProxy, Message: err.Error()}
	case errors.Is(err, errNotLoaded):
		return &protocol.Error{Code: protocol.CodeNotLoaded, Message: err.Error()}
	case errors.As(err, &br), errors.Is(err, session.ErrBadProxy):
		return &protocol.Error{Code: protocol.CodeBadRequest, Message: err.Error()}
	default:
		return &protocol.Error{Code: protocol.CodeInternal, Message: err.Error()}
	}
}

var errNotLoaded = errors.New("no snapshot loaded: send `load` first")

func decode[T any](raw json.RawMessage) (T, error) {
	var v T
	if len(raw) == 0 {
		return v, nil
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, badRequest{fmt.Errorf("invalid params: %v", err)}
	}
	return v, nil
}
