package protocol

import (
	"encoding/json"
	"testing"
)

// The answer written by hand is the line encoding/json writes of it, objects given compact.
func TestAppendJobAnswerIsEncodingJSONs(t *testing.T) {
	proxy, err := json.Marshal(ProxyInfo{ID: "web-1.shop", Namespace: "shop", Labels: map[string]string{"app": "<web>"}})
	if err != nil {
		t.Fatal(err)
	}
	answer := &JobAnswer{Proxy: proxy, JobProxyConfig: JobProxyConfig{
		Listeners: []JobObject{{Ref: 0, Name: "virtualInbound", Object: json.RawMessage(`{"a":[1,{"b":"}]\""}],"name":"virtualInbound"}`)}, {Ref: 7}},
		Routes:    []JobObject{},
		Clusters:  []JobObject{{Ref: 12345}, {Ref: 2, Name: "outbound|80||<a\"b>.shop", Object: json.RawMessage(`{}`)}},
		Endpoints: []JobObject{{Ref: 1, Object: json.RawMessage(`{}`)}},
	}}
	want, err := json.Marshal(Response{ID: 42, Result: answer})
	if err != nil {
		t.Fatal(err)
	}
	if got := AppendJobAnswer([]byte("kept"), 42, answer); string(got) != "kept"+string(want)+"\n" {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
