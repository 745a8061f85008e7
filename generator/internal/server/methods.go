package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/meshlens/meshlens/generator/internal/admission"
	"github.com/meshlens/meshlens/generator/internal/protocol"
	"github.com/meshlens/meshlens/generator/internal/render"
	"github.com/meshlens/meshlens/generator/internal/session"
	"istio.io/istio/pilot/pkg/model"
)

// decodeProxy decodes a method's params and resolves the proxy they name (proxyOf) in the session.
func decodeProxy[P any](sess *session.Session, raw json.RawMessage, proxyOf func(P) protocol.ProxyInput) (P, *model.Proxy, error) {
	p, err := decode[P](raw)
	if err != nil {
		return p, nil, err
	}
	proxy, err := sess.Proxy(proxyOf(p))
	return p, proxy, err
}

func proxyOfParams(p protocol.ProxyParams) protocol.ProxyInput      { return p.Proxy }
func proxyOfSimulate(p protocol.SimulateParams) protocol.ProxyInput { return p.Proxy }
func proxyOfHashed(p protocol.HashedConfigParams) protocol.ProxyInput {
	return p.Proxy
}

func (s *Server) dispatch(req protocol.Request) (any, error) {
	if req.Method == "version" {
		return session.Version(), nil
	}
	if req.Method == "render" {
		// istioctl's views of a config given in the request: no snapshot needed.
		p, err := decode[render.Params](req.Params)
		if err != nil {
			return nil, err
		}
		out, err := render.Render(p)
		var bad render.BadRequest
		if errors.As(err, &bad) {
			return nil, badRequest{err}
		}
		return out, err
	}
	if req.Method == "gatewayDeployments" {
		// What istiod's deployment controller would create for a snapshot's Gateways: asked
		// before the snapshot is loaded, which then holds them.
		in, err := decode[session.DeploymentsInput](req.Params)
		if err != nil {
			return nil, err
		}
		return session.GatewayDeployments(in)
	}
	if req.Method == "validate" {
		// The API server's and Istio's webhook's answer to creating each object: no snapshot needed.
		p, err := decode[protocol.ValidateParams](req.Params)
		if err != nil {
			return nil, err
		}
		results, err := validateAll(p.Objects)
		if err != nil {
			return nil, err
		}
		return protocol.ValidateResult{Results: results}, nil
	}
	if req.Method == "load" {
		if s.session != nil {
			return nil, badRequest{fmt.Errorf("a session holds one snapshot; start a new generator for another")}
		}
		in, err := decode[session.Input](req.Params)
		if err != nil {
			return nil, err
		}
		sess, err := session.Load(in)
		if err != nil {
			return nil, err
		}
		s.session = sess
		return protocol.LoadResult{Diagnostics: sess.Diagnostics, Pods: len(sess.PodNames())}, nil
	}
	if s.session == nil {
		return nil, errNotLoaded
	}
	switch req.Method {
	case "proxyConfig":
		_, proxy, err := decodeProxy(s.session, req.Params, proxyOfParams)
		if err != nil {
			return nil, err
		}
		g, err := s.session.Generate(proxy)
		if err != nil {
			return nil, err
		}
		cfg, err := g.JSON()
		if err != nil {
			return nil, err
		}
		return protocol.ProxyConfigResult{Proxy: session.Describe(proxy), ProxyConfig: cfg}, nil
	case "hashedProxyConfig":
		p, proxy, err := decodeProxy(s.session, req.Params, proxyOfHashed)
		if err != nil {
			return nil, err
		}
		if p.Job == "" {
			return nil, badRequest{fmt.Errorf("hashedProxyConfig: job is required")}
		}
		job := s.job(p.Job)
		pk, err := s.session.Pack(proxy, job)
		if err != nil {
			return nil, err
		}
		// Settled and sent by reply (Hashed.Commit), in the order answers are written.
		return pk.Hashed(session.Describe(proxy), job)
	case "endJob":
		p, err := decode[protocol.EndJobParams](req.Params)
		if err != nil {
			return nil, err
		}
		s.endJob(p.Job)
		return struct{}{}, nil
	case "proxyFacts":
		// What an ad-hoc proxy's config depends on, without generating it (the service's stored-class lookup).
		_, proxy, err := decodeProxy(s.session, req.Params, proxyOfParams)
		if err != nil {
			return nil, err
		}
		return session.Facts(proxy), nil
	case "simulate":
		p, proxy, err := decodeProxy(s.session, req.Params, proxyOfSimulate)
		if err != nil {
			return nil, err
		}
		return s.session.Simulate(proxy, p.Calls)
	case "proxies":
		p, err := decode[protocol.ProxiesParams](req.Params)
		if err != nil {
			return nil, err
		}
		return s.session.Proxies(p.Types), nil
	case "analyze":
		return s.session.Analyze()
	case "gatewayApi":
		return s.session.GatewayAPI, nil
	case "mesh":
		return s.session.Mesh(), nil
	case "pushScope":
		p, err := decode[protocol.PushScopeParams](req.Params)
		if err != nil {
			return nil, err
		}
		return s.session.PushScope(p)
	case "peerAuthentication":
		_, proxy, err := decodeProxy(s.session, req.Params, proxyOfParams)
		if err != nil {
			return nil, err
		}
		return s.session.PeerAuthentication(proxy), nil
	default:
		return nil, badRequest{fmt.Errorf("unknown method %q (version, validate, gatewayDeployments, load, render, proxyConfig, hashedProxyConfig, endJob, proxyFacts, simulate, proxies, analyze, gatewayApi, mesh, peerAuthentication, pushScope)", req.Method)}
	}
}

// validateAll validates each object on every core: an upload's hundreds of Istio objects each
// go through decoding, the CRD schema and Istio's webhook, independent of one another (the
// schemas and the webhook are shared, read-only). The first error in object order, as one by one.
func validateAll(objects []json.RawMessage) ([]admission.Result, error) {
	results := make([]admission.Result, len(objects))
	errs := make([]error, len(objects))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(objects)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(objects); i = int(next.Add(1) - 1) {
				results[i], errs[i] = admission.Validate(objects[i])
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return results, nil
}
