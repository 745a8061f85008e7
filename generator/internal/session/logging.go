package session

import "istio.io/istio/pkg/log"

// QuietLogs sends Istio's logs to stderr, warnings and above: stdout carries the protocol.
func QuietLogs() error {
	o := log.DefaultOptions()
	o.OutputPaths = []string{"stderr"}
	o.ErrorOutputPaths = []string{"stderr"}
	o.SetDefaultOutputLevel("all", log.ErrorLevel)
	return log.Configure(o)
}
