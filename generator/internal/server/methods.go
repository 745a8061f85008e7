package server

import (
	"errors"
	"fmt"

	"github.com/meshlens/meshlens/generator/internal/admission"
	"github.com/meshlens/meshlens/generator/internal/protocol"
	"github.com/meshlens/meshlens/generator/internal/render"
	"github.com/meshlens/meshlens/generator/internal/session"
)

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
		p, err := decode[protocol.ProxyParams](req.Params)
		if err != nil {
			return nil, err
		}
		proxy, err := s.session.Proxy(p.Proxy)
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
		p, err := decode[protocol.SimulateParams](req.Params)
		if err != nil {
			return nil, err
		}
		proxy, err := s.session.Proxy(p.Proxy)
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
	case "peerAuthentication":
		p, err := decode[protocol.ProxyParams](req.Params)
		if err != nil {
			return nil, err
		}
		proxy, err := s.session.Proxy(p.Proxy)
		if err != nil {
			return nil, err
		}
		return s.session.PeerAuthentication(proxy), nil
	default:
		return nil, badRequest{fmt.Errorf("unknown method %q (version, validate, gatewayDeployments, load, render, proxyConfig, simulate, proxies, analyze, gatewayApi, mesh, peerAuthentication)", req.Method)}
	}
}
