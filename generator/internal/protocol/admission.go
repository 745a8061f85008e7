package protocol

// The wire types of the generator's `validate` method.

// FieldError is one reason an object is refused, at a JSON path (field names and list indexes).
type FieldError struct {
	Path    []any  `json:"path"`
	Message string `json:"message"`
}

// AdmissionResult is the API server's answer to creating one object: refused when Errors is not empty;
// Warnings are those Istio's webhook returns with an accepted object.
type AdmissionResult struct {
	Errors   []FieldError `json:"errors,omitempty"`
	Warnings []string     `json:"warnings,omitempty"`
}
