// Package protocol is the generator's wire format: newline-delimited JSON over stdin/stdout.
// Every request carries an id; every response echoes it with either a result or an error.
package protocol

import "encoding/json"

type Request struct {
	ID     int64           `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params,omitempty"`
}

type Response struct {
	ID     int64  `json:"id"`
	Result any    `json:"result,omitempty"`
	Error  *Error `json:"error,omitempty"`
}

// Error codes the service maps to its own errors.
const (
	CodeBadRequest = "BAD_REQUEST" // the request is malformed or names nothing that exists
	CodeNotLoaded  = "NOT_LOADED"  // a question before the snapshot was loaded
	CodeNoProxy    = "NO_PROXY"    // the workload runs without an Envoy
	CodeNotFound   = "NOT_FOUND"   // the request names a workload the snapshot does not have
	CodeInternal   = "INTERNAL"    // Istio failed or panicked on this request; the session lives on
)

type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}
