package session

// The journey's authorization cross-check, on the Go side: for the policy mesh of the journey tests
// (test/e2e/journey/policies.yaml), Istio's own builder generates the receiver's RBAC filters (as
// protos, through the session), and Envoy's RBAC semantics (source/extensions/filters/common/rbac:
// a policy matches when any permission and any principal matches; ALLOW, DENY, LOG engines; the
// first matching policy name in map order) applied to them must give the decisions listed in
// test/e2e/journey/authz-cases.json, which the TypeScript evaluator is held to as well. The
// evaluator below covers the matchers Istio generates for these policies and fails on any other.

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rbacpb "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	routepb "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	rbachttp "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	hcm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	uritemplate "github.com/envoyproxy/go-control-plane/envoy/extensions/path/match/uri_template/v3"
	matcher "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/structpb"
	"sigs.k8s.io/yaml"
)

type authzCase struct {
	Name             string         `json:"name"`
	Principal        *string        `json:"principal"`
	SourceIP         string         `json:"sourceIp"`
	Method           string         `json:"method"`
	Path             string         `json:"path"`
	Host             string         `json:"host"`
	RequestPrincipal string         `json:"requestPrincipal"`
	Claims           map[string]any `json:"claims"`
	Expect           struct {
		Verdict string  `json:"verdict"`
		Policy  *string `json:"policy"`
		Rule    *int    `json:"rule"`
	} `json:"expect"`
}

type authzCases struct {
	Receiver struct {
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
		Port      uint32            `json:"port"`
	} `json:"receiver"`
	Cases []authzCase `json:"cases"`
}

// journeyFixture: a file of the journey e2e tests (test/e2e/journey), which these cross-checks share.
func journeyFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../../test/e2e/journey/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestJourneyAuthorizationCrossCheck(t *testing.T) {
	docs, raw := journeyFixture(t, "policies.yaml"), journeyFixture(t, "authz-cases.json")
	var table authzCases
	if err := json.Unmarshal(raw, &table); err != nil {
		t.Fatal(err)
	}
	in := splitSnapshot(t, string(docs))
	in.MeshConfig = "extensionProviders:\n- name: ext-authz\n  envoyExtAuthzHttp: {service: ext-authz.shop.svc.cluster.local, port: 8000}\n"
	s := mustLoad(t, in)
	p := mustProxy(t, s, ProxyInput{Namespace: table.Receiver.Namespace, Labels: table.Receiver.Labels, IP: "10.0.0.10"})
	g, err := s.Generate(p)
	if err != nil {
		t.Fatal(err)
	}
	filters := inboundHTTPFilters(t, g, table.Receiver.Port)
	if len(filters) == 0 {
		t.Fatalf("no HTTP filters on the inbound mTLS chain of port %d", table.Receiver.Port)
	}
	for _, c := range table.Cases {
		t.Run(c.Name, func(t *testing.T) {
			verdict, policy, rule := decide(t, filters, requestOf(c, table.Receiver.Port))
			if verdict != c.Expect.Verdict || !samePtr(policy, c.Expect.Policy) || !samePtr(rule, c.Expect.Rule) {
				t.Errorf("got %s %s rule %s, want %s %s rule %s", verdict, str(policy), str(rule), c.Expect.Verdict, str(c.Expect.Policy), str(c.Expect.Rule))
			}
		})
	}
}

// inboundHTTPFilters: the HTTP filters of virtualInbound's mTLS filter chain for the port.
func inboundHTTPFilters(t *testing.T, g *Generated, port uint32) []*hcm.HttpFilter {
	t.Helper()
	for _, l := range g.Listeners {
		if l.Name != "virtualInbound" {
			continue
		}
		for _, fc := range l.FilterChains {
			m := fc.GetFilterChainMatch()
			if m.GetDestinationPort().GetValue() != port || m.GetTransportProtocol() != "tls" {
				continue
			}
			for _, f := range fc.Filters {
				if f.Name != "envoy.filters.network.http_connection_manager" {
					continue
				}
				h := &hcm.HttpConnectionManager{}
				if err := f.GetTypedConfig().UnmarshalTo(h); err != nil {
					t.Fatal(err)
				}
				return h.HttpFilters
			}
		}
	}
	return nil
}

type rbacRequest struct {
	principal *string
	sourceIP  netip.Addr
	port      uint32
	headers   map[string]string
	path      string
	metadata  map[string]*structpb.Struct
}

func requestOf(c authzCase, port uint32) rbacRequest {
	r := rbacRequest{
		principal: c.Principal,
		sourceIP:  netip.MustParseAddr(c.SourceIP),
		port:      port,
		headers:   map[string]string{":method": c.Method, ":path": c.Path, ":authority": c.Host},
		path:      c.Path,
		metadata:  map[string]*structpb.Struct{},
	}
	if c.RequestPrincipal != "" || c.Claims != nil {
		payload := map[string]any{}
		for k, v := range c.Claims {
			payload[k] = v
		}
		if i := strings.LastIndex(c.RequestPrincipal, "/"); i >= 0 {
			payload["iss"], payload["sub"] = c.RequestPrincipal[:i], c.RequestPrincipal[i+1:]
		}
		st, err := structpb.NewStruct(map[string]any{"payload": payload})
		if err != nil {
			panic(err)
		}
		r.metadata["envoy.filters.http.jwt_authn"] = st
	}
	return r
}

// decide runs the RBAC filters in order, as Envoy does: a DENY engine's match or an ALLOW engine's
// miss stops the request; LOG and shadow rules never do. The JWT payload is only there after jwt_authn.
func decide(t *testing.T, filters []*hcm.HttpFilter, req rbacRequest) (string, *string, *int) {
	t.Helper()
	afterJwt := false
	var allowedBy string
	for _, f := range filters {
		if f.Name == "envoy.filters.http.jwt_authn" {
			afterJwt = true
		}
		if f.Name != "envoy.filters.http.rbac" {
			continue
		}
		cfg := &rbachttp.RBAC{}
		if err := f.GetTypedConfig().UnmarshalTo(cfg); err != nil {
			t.Fatal(err)
		}
		if cfg.Rules == nil {
			continue
		}
		r := req
		if !afterJwt {
			r.metadata = map[string]*structpb.Struct{}
		}
		matched := firstMatch(t, cfg.Rules, r)
		switch cfg.Rules.Action {
		case rbacpb.RBAC_DENY:
			if matched != "" {
				return deciding("DENY", matched)
			}
		case rbacpb.RBAC_ALLOW:
			if matched == "" {
				return "DENY", nil, nil
			}
			allowedBy = matched
		}
	}
	if allowedBy == "" {
		return "ALLOW", nil, nil
	}
	return deciding("ALLOW", allowedBy)
}

var policyName = regexp.MustCompile(`ns\[([^\]]*)\]-policy\[([^\]]*)\]-rule\[(\d+)\]$`)

func deciding(verdict, name string) (string, *string, *int) {
	m := policyName.FindStringSubmatch(name)
	if m == nil {
		panic("not an Istio policy name: " + name)
	}
	var rule int
	fmt.Sscan(m[3], &rule)
	return verdict, &m[2], &rule
}

// firstMatch: Envoy keeps the policies in a sorted map; the first that matches is the effective one.
func firstMatch(t *testing.T, rules *rbacpb.RBAC, r rbacRequest) string {
	names := make([]string, 0, len(rules.Policies))
	for n := range rules.Policies {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := rules.Policies[n]
		if anyPermission(t, p.Permissions, r) && anyPrincipal(t, p.Principals, r) {
			return n
		}
	}
	return ""
}

func anyPermission(t *testing.T, ps []*rbacpb.Permission, r rbacRequest) bool {
	for _, p := range ps {
		if permission(t, p, r) {
			return true
		}
	}
	return false
}

func anyPrincipal(t *testing.T, ps []*rbacpb.Principal, r rbacRequest) bool {
	for _, p := range ps {
		if principal(t, p, r) {
			return true
		}
	}
	return false
}

func permission(t *testing.T, p *rbacpb.Permission, r rbacRequest) bool {
	switch rule := p.Rule.(type) {
	case *rbacpb.Permission_Any:
		return rule.Any
	case *rbacpb.Permission_AndRules:
		for _, x := range rule.AndRules.Rules {
			if !permission(t, x, r) {
				return false
			}
		}
		return true
	case *rbacpb.Permission_OrRules:
		return anyPermission(t, rule.OrRules.Rules, r)
	case *rbacpb.Permission_NotRule:
		return !permission(t, rule.NotRule, r)
	case *rbacpb.Permission_Header:
		return header(t, rule.Header, r)
	case *rbacpb.Permission_UrlPath:
		return stringMatch(t, rule.UrlPath.GetPath(), r.path)
	case *rbacpb.Permission_DestinationPort:
		return rule.DestinationPort == r.port
	case *rbacpb.Permission_Metadata:
		return metadata(t, rule.Metadata, r)
	case *rbacpb.Permission_UriTemplate:
		cfg := &uritemplate.UriTemplateMatchConfig{}
		if err := rule.UriTemplate.GetTypedConfig().UnmarshalTo(cfg); err != nil {
			t.Fatal(err)
		}
		return uriTemplate(cfg.PathTemplate).MatchString(r.path)
	}
	t.Fatalf("permission %T not covered by this evaluator", p.Rule)
	return false
}

func principal(t *testing.T, p *rbacpb.Principal, r rbacRequest) bool {
	switch id := p.Identifier.(type) {
	case *rbacpb.Principal_Any:
		return id.Any
	case *rbacpb.Principal_AndIds:
		for _, x := range id.AndIds.Ids {
			if !principal(t, x, r) {
				return false
			}
		}
		return true
	case *rbacpb.Principal_OrIds:
		return anyPrincipal(t, id.OrIds.Ids, r)
	case *rbacpb.Principal_NotId:
		return !principal(t, id.NotId, r)
	case *rbacpb.Principal_Authenticated_:
		if r.principal == nil {
			return false // no peer certificate
		}
		return id.Authenticated.GetPrincipalName() == nil || stringMatch(t, id.Authenticated.GetPrincipalName(), *r.principal)
	case *rbacpb.Principal_DirectRemoteIp:
		return cidr(id.DirectRemoteIp, r.sourceIP)
	case *rbacpb.Principal_RemoteIp:
		return cidr(id.RemoteIp, r.sourceIP)
	case *rbacpb.Principal_Header:
		return header(t, id.Header, r)
	case *rbacpb.Principal_Metadata:
		return metadata(t, id.Metadata, r)
	}
	t.Fatalf("principal %T not covered by this evaluator", p.Identifier)
	return false
}

func cidr(c *core.CidrRange, ip netip.Addr) bool {
	prefix, err := netip.ParsePrefix(fmt.Sprintf("%s/%d", c.AddressPrefix, c.GetPrefixLen().GetValue()))
	return err == nil && prefix.Contains(ip)
}

func header(t *testing.T, h *routepb.HeaderMatcher, r rbacRequest) bool {
	value, ok := r.headers[strings.ToLower(h.Name)]
	var matched bool
	switch m := h.HeaderMatchSpecifier.(type) {
	case *routepb.HeaderMatcher_StringMatch:
		matched = ok && stringMatch(t, m.StringMatch, value)
	case *routepb.HeaderMatcher_PresentMatch:
		matched = ok == m.PresentMatch
	default:
		t.Fatalf("header matcher %T not covered by this evaluator", h.HeaderMatchSpecifier)
	}
	return matched != h.InvertMatch
}

func stringMatch(t *testing.T, m *matcher.StringMatcher, v string) bool {
	fold := func(s string) string {
		if m.IgnoreCase {
			return strings.ToLower(s)
		}
		return s
	}
	switch p := m.MatchPattern.(type) {
	case *matcher.StringMatcher_Exact:
		return fold(v) == fold(p.Exact)
	case *matcher.StringMatcher_Prefix:
		return strings.HasPrefix(fold(v), fold(p.Prefix))
	case *matcher.StringMatcher_Suffix:
		return strings.HasSuffix(fold(v), fold(p.Suffix))
	case *matcher.StringMatcher_Contains:
		return strings.Contains(fold(v), fold(p.Contains))
	case *matcher.StringMatcher_SafeRegex:
		return regexp.MustCompile("^(?:" + p.SafeRegex.Regex + ")$").MatchString(v)
	}
	t.Fatalf("string matcher %T not covered by this evaluator", m.MatchPattern)
	return false
}

func metadata(t *testing.T, m *matcher.MetadataMatcher, r rbacRequest) bool {
	st := r.metadata[m.Filter]
	var v *structpb.Value
	if st != nil {
		v = structpb.NewStructValue(st)
		for _, seg := range m.Path {
			v = v.GetStructValue().GetFields()[seg.GetKey()]
			if v == nil {
				break
			}
		}
	}
	return valueMatch(t, m.Value, v) != m.Invert
}

func valueMatch(t *testing.T, m *matcher.ValueMatcher, v *structpb.Value) bool {
	if p, ok := m.MatchPattern.(*matcher.ValueMatcher_PresentMatch); ok {
		return (v != nil) == p.PresentMatch
	}
	if v == nil {
		return false
	}
	switch p := m.MatchPattern.(type) {
	case *matcher.ValueMatcher_StringMatch:
		s, ok := v.Kind.(*structpb.Value_StringValue)
		return ok && stringMatch(t, p.StringMatch, s.StringValue)
	case *matcher.ValueMatcher_ListMatch:
		for _, item := range v.GetListValue().GetValues() {
			if valueMatch(t, p.ListMatch.GetOneOf(), item) {
				return true
			}
		}
		return false
	case *matcher.ValueMatcher_OrMatch:
		for _, x := range p.OrMatch.ValueMatchers {
			if valueMatch(t, x, v) {
				return true
			}
		}
		return false
	}
	t.Fatalf("value matcher %T not covered by this evaluator", m.MatchPattern)
	return false
}

// uriTemplate: Envoy's uri_template, `*` one non-empty segment and `**` any characters, `/` included.
func uriTemplate(template string) *regexp.Regexp {
	const segment = `a-zA-Z0-9\-._~%!$&'()+,;:@=`
	var b strings.Builder
	for i := 0; i < len(template); {
		switch {
		case strings.HasPrefix(template[i:], "**"):
			b.WriteString("[" + segment + "/]*")
			i += 2
		case template[i] == '*':
			b.WriteString("[" + segment + "]+")
			i++
		default:
			b.WriteString(regexp.QuoteMeta(template[i : i+1]))
			i++
		}
	}
	return regexp.MustCompile("^" + b.String() + "$")
}

// The path cases of Istio's authorization tests (test/e2e/journey/istio-authz-cases.yaml) on the
// receivers whose policies decide by path alone: Istio's builder writes the templates and prefixes,
// Envoy's semantics decide. Paths the connection manager would normalise first ("..", "%2E") are
// the journey's to check; the RBAC filter only ever sees them normalised.
func TestJourneyAuthorizationPathCases(t *testing.T) {
	docs, raw := journeyFixture(t, "istio-authz.yaml"), journeyFixture(t, "istio-authz-cases.yaml")
	var table struct {
		Cases []struct {
			Host   string  `json:"host"`
			Path   string  `json:"path"`
			Allow  bool    `json:"allow"`
			Policy *string `json:"policy"`
			Rule   *int    `json:"rule"`
		} `json:"cases"`
	}
	if err := yaml.Unmarshal(raw, &table); err != nil {
		t.Fatal(err)
	}
	s := mustLoad(t, splitSnapshot(t, string(docs)))
	filters := map[string][]*hcm.HttpFilter{}
	for _, app := range []string{"tmpl", "paths"} {
		p := mustProxy(t, s, ProxyInput{Namespace: "bank", Labels: map[string]string{"app": app}, IP: "10.0.0.20"})
		g, err := s.Generate(p)
		if err != nil {
			t.Fatal(err)
		}
		filters[app] = inboundHTTPFilters(t, g, 8080)
	}
	teller := "spiffe://cluster.local/ns/bank/sa/teller"
	var policy *string
	checked := 0
	for _, c := range table.Cases {
		if c.Policy != nil {
			policy = c.Policy
		}
		if filters[c.Host] == nil || strings.Contains(c.Path, "..") || strings.Contains(c.Path, "%") {
			continue
		}
		checked++
		path, _, _ := strings.Cut(c.Path, "?")
		req := rbacRequest{
			principal: &teller,
			sourceIP:  netip.MustParseAddr("10.20.0.5"),
			port:      8080,
			headers:   map[string]string{":method": "GET", ":path": c.Path, ":authority": c.Host + ".bank.svc.cluster.local"},
			path:      path,
			metadata:  map[string]*structpb.Struct{},
		}
		t.Run(c.Host+c.Path, func(t *testing.T) {
			verdict, got, rule := decide(t, filters[c.Host], req)
			if (verdict == "ALLOW") != c.Allow {
				t.Fatalf("got %s, want allowed %v", verdict, c.Allow)
			}
			if c.Rule != nil && (!samePtr(got, policy) || !samePtr(rule, c.Rule)) {
				t.Errorf("decided by %s rule %s, want %s rule %d", str(got), str(rule), str(policy), *c.Rule)
			}
		})
	}
	if checked < 20 {
		t.Fatalf("only %d path cases checked", checked)
	}
}

func samePtr[T comparable](a, b *T) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func str[T any](p *T) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}
