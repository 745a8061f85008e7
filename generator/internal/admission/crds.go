// Package admission treats objects as the API server of a cluster running the embedded Istio
// release would on `kubectl apply`: defaults applied, then refused with the API server's or
// Istio's validating webhook's reasons.
package admission

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kubeyaml "k8s.io/apimachinery/pkg/util/yaml"
	celconfig "k8s.io/apiserver/pkg/apis/cel"

	"istio.io/istio/manifests"
)

// istioCRDs is where the istio.io/istio module ships its CRDs, inside the charts it embeds:
// the schemas are those of the Istio release the generator is built with, by construction.
const istioCRDs = "charts/base/files/crd-all.gen.yaml"

// gatewayAPICRDs are the experimental channel's CRDs of the sigs.k8s.io/gateway-api version in
// go.mod (the channel Istio's own tests install), copied from the module cache because that module
// embeds none; TestGatewayAPICRDsMatchModule fails when the copy and go.mod diverge.
//
//go:embed gateway-api-crds.yaml
var gatewayAPICRDs []byte

// crdVersion is one served version of a CRD, ready to prune, default and validate objects.
type crdVersion struct {
	structural *structuralschema.Structural
	// validators compiles the schema's validator and CEL rules on first use: defaulting, all a
	// session load needs, does without them.
	validators func() (*validators, error)
	// status is set when the status subresource is on: the API server drops status on create.
	status     bool
	namespaced bool
}

type validators struct {
	schema validation.SchemaCreateValidator
	cel    *cel.Validator
}

type registry struct {
	byGVK map[schema.GroupVersionKind]*crdVersion
	// kinds lists the served versions of each group and kind, to say which ones are.
	kinds map[schema.GroupKind][]string
}

// crds builds the registry once, on first use: compiling the schemas and their CEL rules takes a while.
var crds = sync.OnceValues(func() (*registry, error) {
	istio, err := fs.ReadFile(manifests.BuiltinOrDir(""), istioCRDs)
	if err != nil {
		return nil, fmt.Errorf("reading Istio's CRDs: %v", err)
	}
	r := &registry{byGVK: map[schema.GroupVersionKind]*crdVersion{}, kinds: map[schema.GroupKind][]string{}}
	for _, source := range [][]byte{istio, gatewayAPICRDs} {
		if err := r.add(source); err != nil {
			return nil, err
		}
	}
	return r, nil
})

func (r *registry) add(source []byte) error {
	decoder := kubeyaml.NewYAMLOrJSONDecoder(bytes.NewReader(source), 1<<20)
	for {
		un := &unstructured.Unstructured{}
		err := decoder.Decode(un)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("decoding CRDs: %v", err)
		}
		if un.GetKind() != "CustomResourceDefinition" {
			continue // the Gateway API's ValidatingAdmissionPolicy for safe upgrades
		}
		v1 := &apiextensionsv1.CustomResourceDefinition{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(un.Object, v1); err != nil {
			return fmt.Errorf("CRD %s: %v", un.GetName(), err)
		}
		crd := &apiextensions.CustomResourceDefinition{}
		if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(v1, crd, nil); err != nil {
			return fmt.Errorf("CRD %s: %v", un.GetName(), err)
		}
		if err := r.addCRD(crd); err != nil {
			return fmt.Errorf("CRD %s: %v", crd.Name, err)
		}
	}
}

func (r *registry) addCRD(crd *apiextensions.CustomResourceDefinition) error {
	gk := schema.GroupKind{Group: crd.Spec.Group, Kind: crd.Spec.Names.Kind}
	for _, version := range crd.Spec.Versions {
		if !version.Served {
			continue
		}
		props := version.Schema
		if props == nil {
			props = crd.Spec.Validation
		}
		if props == nil || props.OpenAPIV3Schema == nil {
			return fmt.Errorf("version %s has no schema", version.Name)
		}
		structural, err := structuralschema.NewStructural(props.OpenAPIV3Schema)
		if err != nil {
			return err
		}
		// As the API server does: defaults are pruned of unknown fields before they are applied.
		if err := structuraldefaulting.PruneDefaults(structural); err != nil {
			return err
		}
		subresources := version.Subresources
		if subresources == nil {
			subresources = crd.Spec.Subresources
		}
		r.byGVK[gk.WithVersion(version.Name)] = &crdVersion{
			structural: structural,
			validators: sync.OnceValues(func() (*validators, error) {
				schemaValidator, _, err := validation.NewSchemaValidator(props.OpenAPIV3Schema)
				return &validators{schema: schemaValidator, cel: cel.NewValidator(structural, true, celconfig.PerCallLimit)}, err
			}),
			status:     subresources != nil && subresources.Status != nil,
			namespaced: crd.Spec.Scope == apiextensions.NamespaceScoped,
		}
		r.kinds[gk] = append(r.kinds[gk], gk.Group+"/"+version.Name)
	}
	return nil
}
