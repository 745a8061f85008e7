package session

import (
	"crypto/sha256"
	"encoding/json"
	"sync"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"istio.io/istio/pilot/pkg/model"

	"github.com/meshlens/meshlens/generator/internal/protocol"
)

// The wire types of this package live in the protocol package with the rest of the
// generator's wire format; these are their names here.
type (
	JobObject = protocol.JobObject
	JobAnswer = protocol.JobAnswer
)

// ObjectHash identifies a generated object by content: the SHA-256 of its type URL and its
// deterministic proto marshalling (istiod's own, protoconv, for routes, clusters and endpoints).
// Equal hashes are equal messages, hence equal proto3 JSON. Equal messages may still hash
// differently (istiod packs some Any values from Go maps, whose bytes vary): that only costs
// sending the object twice.
type ObjectHash [sha256.Size]byte

// Sent is what one compute job holds: the objects sent to it in an earlier answer. A compute job
// asks for the config of hundreds of proxy classes that share most of their objects (every
// sidecar of a mesh has the same outbound clusters and endpoints); each is marshalled to JSON and
// sent once, later answers name it by its ref: its index in the job, a few bytes that the job
// resolves with an array index.
type Sent struct {
	mu sync.Mutex
	// refs are the objects sent, by hash: each one's ref, numbered from 0 in the order of writing.
	refs map[ObjectHash]int
	// marshalled is the objects answers being built marshalled (their name and canonical JSON),
	// by hash, until an answer sending them is written: a job has several answers in flight,
	// which share what they do not hold yet rather than each marshalling it.
	marshalled map[ObjectHash]JobObject
	// packed is the hash of every packed route, cluster and endpoint hashed for the job, by the
	// resource istiod packed it into. istiod's xDS cache hands every class it serves the same
	// *anypb.Any, never changed once cached (it is pushed to every proxy that shares it), so each
	// is hashed once per job rather than once per class; holding it here keeps its address from
	// naming another object later.
	packed map[*anypb.Any]ObjectHash
	// edsClusters is what edsCluster read of each packed cluster, by the same resources as packed.
	edsClusters map[*anypb.Any]edsClusterFacts
	// virtualHosts is the canonical JSON of every virtual host marshalled for the job, by its
	// bytes as istiod packed it. A mesh's route configurations differ from class to class in a few
	// of their virtual hosts (the bench mesh's 82 distinct ones: 90 MB of JSON, 5 MB of distinct
	// virtual hosts), so each virtual host is marshalled once per job rather than once per route
	// configuration holding it.
	virtualHosts map[string][]byte
}

func NewSent() *Sent {
	return &Sent{
		refs:         map[ObjectHash]int{},
		marshalled:   map[ObjectHash]JobObject{},
		packed:       map[*anypb.Any]ObjectHash{},
		edsClusters:  map[*anypb.Any]edsClusterFacts{},
		virtualHosts: map[string][]byte{},
	}
}

// edsClusterFacts is a packed cluster's name and whether Envoy asks EDS for it.
type edsClusterFacts struct {
	name string
	eds  bool
}

// edsCluster is edsCluster's of a cluster istiod packed, read at its first sight in the job; a
// nil Sent (no job) reads it every time.
func (s *Sent) edsCluster(r *anypb.Any) (name string, eds bool, err error) {
	if s == nil {
		return edsCluster(r.Value)
	}
	facts, err := firstSight(s, s.edsClusters, r, func() (edsClusterFacts, error) {
		name, eds, err := edsCluster(r.Value)
		return edsClusterFacts{name, eds}, err
	})
	return facts.name, facts.eds, err
}

// packedHash is the ObjectHash of a resource istiod packed, hashed at its first sight in the job.
func (s *Sent) packedHash(typeURL string, r *anypb.Any) ObjectHash {
	hash, _ := firstSight(s, s.packed, r, func() (ObjectHash, error) { return bytesHash(typeURL, r.Value), nil })
	return hash
}

// firstSight is m's value for key, one of the job's memos: computed, outside the job's lock, when
// the job has none yet (two answers may both compute it, to the same value); a failure is not
// kept. virtualHostJSON does the same by hand, to look its memo up by bytes without copying them.
func firstSight[K comparable, V any](s *Sent, m map[K]V, key K, compute func() (V, error)) (V, error) {
	s.mu.Lock()
	v, ok := m[key]
	s.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := compute()
	if err != nil {
		return v, err
	}
	s.mu.Lock()
	m[key] = v
	s.mu.Unlock()
	return v, nil
}

// lookup is whether the job holds an object, and when not, the object (name and JSON) if an
// answer built since marshalled it.
func (s *Sent) lookup(h ObjectHash) (held bool, marshalled JobObject) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, held = s.refs[h]; held {
		return true, JobObject{}
	}
	return false, s.marshalled[h]
}

// keep holds a marshalled object for the answers built until one sending it is written: not
// when an answer sending it was written since this one's lookup (Commit has dropped it, and no
// later Commit would).
func (s *Sent) keep(h ObjectHash, o JobObject) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, held := s.refs[h]; !held {
		s.marshalled[h] = o
	}
}

// Hashed is a generated config as a compute job takes it: every object by hash, with its name and
// canonical proto3 JSON unless the job held it when the answer was built; Commit names them by ref.
type Hashed struct {
	sent *Sent
	// protojson is protojson's text of the object being marshalled, reused from one to the next:
	// only its canonical form is kept.
	protojson []byte
	// hashes parallels the lists of answer
	hashes [4][]ObjectHash
	answer JobAnswer
}

// Hashed hashes every object and marshals those the job does not hold yet: listeners from their
// deterministic marshalling, the rest from the bytes istiod packed them into (once per job for
// what istiod's xDS cache shares), unpacked only to be sent, and once per job but for answers
// built at the same time (Sent.marshalled); a route configuration's virtual hosts once per job
// whatever configurations hold them (marshalRouteConfiguration). Answers are built concurrently:
// Commit, as the answer is written, settles which of them sends an object.
func (pk *Packed) Hashed(proxy ProxyInfo, sent *Sent) (*Hashed, error) {
	h := &Hashed{sent: sent}
	var err error
	// As encoding/json writes it in a Response, ahead of the lock the answers are written under.
	if h.answer.Proxy, err = json.Marshal(proxy); err != nil {
		return nil, err
	}
	var buf []byte
	h.answer.Listeners = make([]JobObject, 0, len(pk.Listeners))
	for _, m := range pk.Listeners {
		var hash ObjectHash
		if hash, buf, err = objectHash(protocol.TypeListener, m, buf[:0]); err != nil {
			return nil, err
		}
		if err = h.add(0, hash, func() (JobObject, error) { return h.marshal(m) }); err != nil {
			return nil, err
		}
	}
	lists := []struct {
		typeURL   string
		resources model.Resources
		marshal   func(*anypb.Any) (JobObject, error)
	}{
		{protocol.TypeRouteConfiguration, pk.Routes, h.marshalRouteConfiguration},
		{protocol.TypeCluster, pk.Clusters, func(r *anypb.Any) (JobObject, error) { return h.unpacked(r, &cluster.Cluster{}) }},
		{protocol.TypeClusterLoadAssign, pk.Endpoints, func(r *anypb.Any) (JobObject, error) {
			return h.unpacked(r, &endpoint.ClusterLoadAssignment{})
		}},
	}
	for i, l := range lists {
		*h.lists()[i+1] = make([]JobObject, 0, len(l.resources))
		for _, r := range l.resources {
			marshal := func() (JobObject, error) { return l.marshal(r.Resource) }
			if err = h.add(i+1, sent.packedHash(l.typeURL, r.Resource), marshal); err != nil {
				return nil, err
			}
		}
	}
	return h, nil
}

// add appends an object to list i by hash, with its name and canonical proto3 JSON unless the
// job holds it: marshalled here unless another answer being built has.
func (h *Hashed) add(i int, hash ObjectHash, marshal func() (JobObject, error)) error {
	held, o := h.sent.lookup(hash)
	if !held && o.Object == nil {
		var err error
		if o, err = marshal(); err != nil {
			return err
		}
		h.sent.keep(hash, o)
	}
	*h.lists()[i] = append(*h.lists()[i], o)
	h.hashes[i] = append(h.hashes[i], hash)
	return nil
}

// marshal is marshalObject's, protojson's text in the buffer the answer reuses.
func (h *Hashed) marshal(m proto.Message) (o JobObject, err error) {
	o, h.protojson, err = marshalObject(m, h.protojson[:0])
	return o, err
}

// unpacked is marshal's of the message istiod packed into r, unpacked into m.
func (h *Hashed) unpacked(r *anypb.Any, m proto.Message) (JobObject, error) {
	if err := r.UnmarshalTo(m); err != nil {
		return JobObject{}, err
	}
	return h.marshal(m)
}

// The field of a RouteConfiguration holding its virtual hosts, by number and by proto3 JSON name.
var virtualHostsField = (*route.RouteConfiguration)(nil).ProtoReflect().Descriptor().Fields().ByName("virtual_hosts")

// marshalRouteConfiguration is marshalObject's result for the RouteConfiguration istiod packed
// into r: the configuration without its virtual hosts marshalled like any object, then each
// virtual host's canonical JSON from the job's memo (Sent.virtualHosts), unpacked and marshalled
// only at its first sight in the job. Canonical JSON sorts an object's keys, and virtualHosts
// sorts after every other field's name (TestVirtualHostsSortLast), so the hosts close the object;
// the canonical JSON of an array is its elements' joined by commas.
func (h *Hashed) marshalRouteConfiguration(r *anypb.Any) (JobObject, error) {
	var rest []byte
	var hosts [][]byte
	for b := r.Value; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return JobObject{}, protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return JobObject{}, protowire.ParseError(m)
		}
		if num == virtualHostsField.Number() && typ == protowire.BytesType {
			host, _ := protowire.ConsumeBytes(b[n:])
			hosts = append(hosts, host)
		} else {
			rest = append(rest, b[:n+m]...)
		}
		b = b[n+m:]
	}
	config := &route.RouteConfiguration{}
	if err := proto.Unmarshal(rest, config); err != nil {
		return JobObject{}, err
	}
	o, err := h.marshal(config)
	if err != nil || len(hosts) == 0 {
		return o, err
	}
	object := o.Object[:len(o.Object)-1]
	if len(object) > 1 {
		object = append(object, ',')
	}
	object = append(object, `"`+virtualHostsField.JSONName()+`":[`...)
	for i, host := range hosts {
		text, err := h.virtualHostJSON(host)
		if err != nil {
			return JobObject{}, err
		}
		if i > 0 {
			object = append(object, ',')
		}
		object = append(object, text...)
	}
	o.Object = append(object, "]}"...)
	return o, nil
}

// virtualHostJSON is the canonical JSON of the virtual host packed as host, the job's if an
// answer marshalled it before. Equal bytes are equal messages; equal messages packed differently
// (istiod packs some Any values from Go maps) are only marshalled twice.
func (h *Hashed) virtualHostJSON(host []byte) ([]byte, error) {
	h.sent.mu.Lock()
	text, ok := h.sent.virtualHosts[string(host)]
	h.sent.mu.Unlock()
	if ok {
		return text, nil
	}
	vh := &route.VirtualHost{}
	if err := proto.Unmarshal(host, vh); err != nil {
		return nil, err
	}
	o, err := h.marshal(vh)
	if err != nil {
		return nil, err
	}
	text = o.Object
	h.sent.mu.Lock()
	h.sent.virtualHosts[string(host)] = text
	h.sent.mu.Unlock()
	return text, nil
}

// marshalObject is m as a compute job is sent it: its name (a ClusterLoadAssignment's is its
// cluster's) and its proto3 JSON in canonical form, the bytes the job stores and hashes as they
// are; protojson's text marshalled into buf (returned for reuse).
func marshalObject(m proto.Message, buf []byte) (JobObject, []byte, error) {
	text, err := protojson.MarshalOptions{}.MarshalAppend(buf, m)
	if err != nil {
		return JobObject{}, text, err
	}
	o := JobObject{Name: objectName(m)}
	o.Object, err = protocol.AppendCanonical(make([]byte, 0, len(text)), text)
	return o, text, err
}

// objectName is the name Envoy keys an object of an xDS type by.
func objectName(m proto.Message) string {
	switch m := m.(type) {
	case *endpoint.ClusterLoadAssignment:
		return m.GetClusterName()
	case interface{ GetName() string }:
		return m.GetName()
	}
	return ""
}

// lists are the answer's object lists, in the order of hashes: listeners, routes, clusters, endpoints.
func (h *Hashed) lists() [4]*[]JobObject {
	return [4]*[]JobObject{&h.answer.Listeners, &h.answer.Routes, &h.answer.Clusters, &h.answer.Endpoints}
}

// objectHash is the ObjectHash of m, marshalled into buf (returned for reuse).
func objectHash(typeURL string, m proto.Message, buf []byte) (ObjectHash, []byte, error) {
	bytes, err := proto.MarshalOptions{Deterministic: true}.MarshalAppend(buf, m)
	if err != nil {
		return ObjectHash{}, bytes, err
	}
	return bytesHash(typeURL, bytes), bytes, nil
}

// bytesHash is the ObjectHash of an object marshalled deterministically.
func bytesHash(typeURL string, bytes []byte) ObjectHash {
	d := sha256.New()
	d.Write([]byte(typeURL))
	d.Write([]byte{0})
	d.Write(bytes)
	var h ObjectHash
	d.Sum(h[:0])
	return h
}

// Commit settles the answer as it is written, in the order answers are written: an object the
// job received in an answer written since this one was built goes by ref only; every object
// sent here is the job's from now on, under the next ref. The caller writes the answer right
// after, before any other answer (the server holds its output lock): refs number the objects in
// the order the job reads them.
func (h *Hashed) Commit() *JobAnswer {
	h.sent.mu.Lock()
	defer h.sent.mu.Unlock()
	for i, l := range h.lists() {
		list := *l
		for j := range list {
			hash := h.hashes[i][j]
			if ref, held := h.sent.refs[hash]; held {
				list[j] = JobObject{Ref: ref}
			} else {
				// Not held when built either (lookup says so from then on): marshalled.
				list[j].Ref = len(h.sent.refs)
				h.sent.refs[hash] = list[j].Ref
				delete(h.sent.marshalled, hash)
			}
		}
	}
	return &h.answer
}
