package protocol

import (
	"math"
	"testing"
)

// JSON.parse then the service's canonicalJson (src/model/canonical.ts), run by node on each input.
func TestAppendCanonicalWritesWhatCanonicalJsonWritesOfTheParsedText(t *testing.T) {
	cases := []struct{ input, want string }{
		{"{\"b\":1, \"a\":[1.0, -0, 0.1, 1e-7, 1e21, 1E+21, 100000000000000000000, 123456789012345678, 1.5e300, -2.5E-8, 0.000001, 5e-324, 1.7976931348623157e308, 1e400, -1e-400, 0.30000000000000004, 12345678901234567890123]}",
			"{\"a\":[1,0,0.1,1e-7,1e+21,1e+21,100000000000000000000,123456789012345680,1.5e+300,-2.5e-8,0.000001,5e-324,1.7976931348623157e+308,null,0,0.30000000000000004,1.2345678901234568e+22],\"b\":1}"},
		{"{\"s\":\"quote\\\" backslash\\\\ slash\\/ \\u00e9 é \\u2028\u2028 <&> \\b\\f\\n\\r\\t \\u0001\\u001F \\ud83d\\ude00 😀 \\ud800 x\\udc00\"}",
			"{\"s\":\"quote\\\" backslash\\\\ slash/ é é \u2028\u2028 <&> \\b\\f\\n\\r\\t \\u0001\\u001f 😀 😀 \\ud800 x\\udc00\"}"},
		{"{\"z\":{\"y\":true,\"x\":null},\"\\u00e9\":false,\"é2\":1,\"a\\\"\":2,\"A\":3,\"\":4}",
			"{\"\":4,\"A\":3,\"a\\\"\":2,\"z\":{\"x\":null,\"y\":true},\"é\":false,\"é2\":1}"},
		{"{\"\uffff\":1,\"😀\":2,\"\ue000\":3}",
			"{\"😀\":2,\"\ue000\":3,\"\uffff\":1}"},
		{"{\"10\":\"ten\",\"9\":\"nine\",\"1\":\"one\",\"b\":\"x\",\"a\":{\"2\":[],\"10\":{}}}",
			"{\"1\":\"one\",\"10\":\"ten\",\"9\":\"nine\",\"a\":{\"10\":{},\"2\":[]},\"b\":\"x\"}"},
		{"{\"__proto__\":{\"x\":1},\"constructor\":2}",
			"{\"__proto__\":{\"x\":1},\"constructor\":2}"},
		{"[ ]",
			"[]"},
		{"{ }",
			"{}"},
		{"\"\\u007f\u007f\"",
			"\"\u007f\u007f\""},
		{"{\"typedPerFilterConfig\":{\"envoy.filters.http.fault\":{\"@type\":\"type.googleapis.com/x\",\"abort\":{\"percentage\":{\"numerator\":100}}}}}",
			"{\"typedPerFilterConfig\":{\"envoy.filters.http.fault\":{\"@type\":\"type.googleapis.com/x\",\"abort\":{\"percentage\":{\"numerator\":100}}}}}"},
	}
	for _, c := range cases {
		got, err := AppendCanonical([]byte("prefix"), []byte(c.input))
		if err != nil {
			t.Errorf("%s: %v", c.input, err)
		} else if string(got) != "prefix"+c.want {
			t.Errorf("%s:\n got %s\nwant prefix%s", c.input, got, c.want)
		}
	}
}

func TestAppendCanonicalRefusesWhatIsNotOneJSONValue(t *testing.T) {
	for _, input := range []string{``, `{"a":1,"a":2}`, `{"a":1 "b":2}`, `[1 2]`, `{"a"}`, `"\x"`, "\"a\x01\"", "\"\xff\"", `1 2`, `nul`, `"open`} {
		if got, err := AppendCanonical(nil, []byte(input)); err == nil {
			t.Errorf("%q: %s, want an error", input, got)
		}
	}
}

// Number::toString's cases (ECMA-262 7.1.12.1), as node prints them.
func TestAppendJSNumberPrintsAsJavaScript(t *testing.T) {
	cases := []struct {
		f    float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "0"}, {1, "1"}, {-1.5, "-1.5"}, {0.1, "0.1"}, {1e-6, "0.000001"},
		{1e-7, "1e-7"}, {1.25e-7, "1.25e-7"}, {123e-20, "1.23e-18"}, {1e20, "100000000000000000000"},
		{1e21, "1e+21"}, {1.5e21, "1.5e+21"}, {123456789.125, "123456789.125"}, {2e-323, "2e-323"},
		{math.MaxFloat64, "1.7976931348623157e+308"}, {math.Inf(1), "null"}, {math.NaN(), "null"},
		{9007199254740993, "9007199254740992"}, {4.35, "4.35"}, {0.000123, "0.000123"},
	}
	for _, c := range cases {
		if got := string(appendJSNumber(nil, c.f)); got != c.want {
			t.Errorf("%v: %s, want %s", c.f, got, c.want)
		}
	}
}
