package server

import (
	"encoding/json"
	"errors"
	"fmt"

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
		results := make([]admission.Result, len(p.Objects))
		for i, raw := range p.Objects {
			if results[i], err = admission.Validate(raw); err != nil {
				return nil, err
			}
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
		return nil, badRequest{fmt.Errorf("unknown method %q (version, validate, gatewayDeployments, load, render, proxyConfig, simulate, proxies, analyze, gatewayApi, mesh, peerAuthentication, pushScope)", req.Method)}
	}
}
