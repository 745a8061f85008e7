package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	admissionv1 "k8s.io/api/admission/v1"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	apiextensionsvalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	kubejson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"

	"istio.io/istio/pkg/config/constants"
	"istio.io/istio/pkg/config/schema/collections"
	"istio.io/istio/pkg/webhooks/validation/server"

	"github.com/meshlens/meshlens/generator/internal/protocol"
)

// The wire types of this package live in the protocol package with the rest of the
// generator's wire format; these are their names here.
type (
	FieldError = protocol.FieldError
	Result     = protocol.AdmissionResult
)

// webhookGroups are the API groups istiod's ValidatingWebhookConfiguration sends to its webhook
// (manifests/charts/base/templates/defaultrevision-validatingwebhookconfiguration.yaml).
var webhookGroups = []string{"security.istio.io", "networking.istio.io", "telemetry.istio.io", "extensions.istio.io"}

// Validate answers as the API server of a cluster running the embedded Istio release answers
// `kubectl apply` (strict field validation) of a new object of a CRD kind: decoding (unknown fields
// refused, nulls dropped), defaulting, the CRD schema's validation (OpenAPI, list types, CEL rules),
// then Istio's validating webhook for Istio's groups. Objects of groups without CRDs here (the
// built-in kinds, others' CRDs) are not its concern: they get an empty result.
func Validate(raw []byte) (Result, error) {
	r, err := crds()
	if err != nil {
		return Result{}, err
	}
	var obj map[string]any
	if err := kubejson.Unmarshal(raw, &obj); err != nil {
		return Result{Errors: []FieldError{{Path: []any{}, Message: "not a JSON object: " + err.Error()}}}, nil
	}
	gvk := gvkOf(obj)
	crd := r.byGVK[gvk]
	if crd == nil {
		if served := r.servedIn(gvk.Group); served {
			return Result{Errors: []FieldError{{Path: []any{"apiVersion"}, Message: r.notServed(gvk)}}}, nil
		}
		return Result{}, nil
	}
	// Strict field validation refuses the object at decoding, before any other check.
	if unknown := crd.store(obj); len(unknown) > 0 {
		result := Result{}
		for _, path := range unknown {
			result.Errors = append(result.Errors, FieldError{Path: pathSegments(path), Message: fmt.Sprintf("strict decoding error: unknown field %q", path)})
		}
		return result, nil
	}
	v, err := crd.validators()
	if err != nil {
		return Result{}, err
	}
	errs := apiextensionsvalidation.ValidateCustomResource(nil, obj, v.schema)
	errs = append(errs, schemaobjectmeta.Validate(nil, obj, crd.structural, false)...)
	errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, crd.structural, obj)...)
	if v.cel != nil && !hasBlocking(errs) {
		celErrs, _ := v.cel.Validate(context.Background(), nil, crd.structural, obj, nil, celconfig.RuntimeCELCostBudget)
		errs = append(errs, celErrs...)
	}
	result := Result{}
	for _, e := range errs {
		result.Errors = append(result.Errors, FieldError{Path: pathSegments(e.Field), Message: e.Error()})
	}
	if len(result.Errors) == 0 && slices.Contains(webhookGroups, gvk.Group) {
		return admit(obj, gvk)
	}
	return result, nil
}

// hasBlocking is the API server's test for skipping CEL rules: they would see a malformed object.
func hasBlocking(errs field.ErrorList) bool {
	for _, e := range errs {
		switch e.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong, field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return true
		}
	}
	return false
}

func (r *registry) servedIn(group string) bool {
	for gk := range r.kinds {
		if gk.Group == group {
			return true
		}
	}
	return false
}

// notServed says what kubectl says, and which versions the CRD serves.
func (r *registry) notServed(gvk schema.GroupVersionKind) string {
	message := fmt.Sprintf("no matches for kind %q in version %q", gvk.Kind, gvk.GroupVersion().String())
	if served := r.kinds[gvk.GroupKind()]; len(served) > 0 {
		message += fmt.Sprintf(" (the CRD of %s serves %s)", gvk.Kind, strings.Join(served, ", "))
	}
	return message
}

// webhook is Istio's validating webhook as istiod serves it (pilot/pkg/bootstrap/validation.go),
// asked in process.
var webhook = sync.OnceValues(func() (http.Handler, error) {
	mux := http.NewServeMux()
	_, err := server.New(server.Options{Schemas: collections.PilotGatewayAPI(), DomainSuffix: constants.DefaultClusterLocalDomain, Mux: mux})
	return mux, err
})

// admit sends the object, as the API server would after defaulting, to Istio's webhook.
func admit(obj map[string]any, gvk schema.GroupVersionKind) (Result, error) {
	handler, err := webhook()
	if err != nil {
		return Result{}, err
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return Result{}, err
	}
	meta, _ := obj["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	namespace, _ := meta["namespace"].(string)
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       types.UID("meshlens"),
			Kind:      metav1.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind},
			Name:      name,
			Namespace: namespace,
			Operation: admissionv1.Create,
			Object:    runtime.RawExtension{Raw: raw},
		},
	}
	body, err := json.Marshal(review)
	if err != nil {
		return Result{}, err
	}
	request := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
	request.Header.Set("Content-Type", "application/json")
	recorder := httptest.NewRecorder()
	handler.ServeHTTP(recorder, request)
	var answer admissionv1.AdmissionReview
	if err := json.Unmarshal(recorder.Body.Bytes(), &answer); err != nil || answer.Response == nil {
		return Result{}, fmt.Errorf("istio's webhook answered %d: %s", recorder.Code, recorder.Body.String())
	}
	result := Result{Warnings: answer.Response.Warnings}
	if !answer.Response.Allowed {
		message := "denied by Istio's validating webhook"
		if answer.Response.Result != nil {
			message = fmt.Sprintf("admission webhook \"validation.istio.io\" denied the request: %s", answer.Response.Result.Message)
		}
		path := []any{}
		if _, found := obj["spec"]; found {
			path = []any{"spec"}
		}
		result.Errors = []FieldError{{Path: path, Message: message}}
	}
	return result, nil
}

var pathToken = regexp.MustCompile(`\.?([^.\[\]]+)|\[([^\]]*)\]`)

// pathSegments splits a field path as the API server writes it (spec.http[0].match[key]).
func pathSegments(path string) []any {
	segments := []any{}
	for _, m := range pathToken.FindAllStringSubmatch(path, -1) {
		if m[1] != "" {
			segments = append(segments, m[1])
			continue
		}
		if i, err := strconv.Atoi(m[2]); err == nil {
			segments = append(segments, i)
		} else {
			segments = append(segments, m[2])
		}
	}
	return segments
}
