package protocol

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// AppendCanonical appends the canonical JSON of the JSON text src (protojson's output, well
// formed): the bytes the service's canonicalJson gives of JSON.parse(src), which it stores and
// hashes as they are. That is JavaScript's JSON.stringify of the parsed value with every object's
// keys sorted by UTF-16 code units (Array.prototype.sort's order): no whitespace, numbers as
// JavaScript prints them (Number::toString), strings escaped as JSON.stringify escapes them.
// Duplicate keys, which JSON.parse would merge, are refused: protojson writes none.
func AppendCanonical(dst, src []byte) ([]byte, error) {
	c := canonicaliser{src: src, out: dst}
	if err := c.value(); err != nil {
		return dst, err
	}
	if c.skipSpace(); c.at < len(src) {
		return dst, c.fail("text after the value")
	}
	return c.out, nil
}

type canonicaliser struct {
	src []byte
	at  int
	out []byte
	// scratch holds an object's members while they are written back in order.
	scratch []byte
}

// member is one member of an object being canonicalised, as written to out: [start, end), its key
// (encoded, quotes included) ending at colon.
type member struct{ start, colon, end int }

func (c *canonicaliser) fail(what string) error {
	return fmt.Errorf("canonical JSON: %s at offset %d", what, c.at)
}

func (c *canonicaliser) skipSpace() {
	for c.at < len(c.src) {
		switch c.src[c.at] {
		case ' ', '\t', '\n', '\r':
			c.at++
		default:
			return
		}
	}
}

func (c *canonicaliser) value() error {
	c.skipSpace()
	if c.at >= len(c.src) {
		return c.fail("no value")
	}
	switch b := c.src[c.at]; {
	case b == '{':
		return c.object()
	case b == '[':
		return c.array()
	case b == '"':
		return c.string()
	case b == '-' || (b >= '0' && b <= '9'):
		return c.number()
	default:
		for _, literal := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(c.src[c.at:], []byte(literal)) {
				c.out = append(c.out, literal...)
				c.at += len(literal)
				return nil
			}
		}
		return c.fail("an unexpected character")
	}
}

func (c *canonicaliser) array() error {
	c.at++ // [
	c.out = append(c.out, '[')
	for first := true; ; first = false {
		c.skipSpace()
		if c.at < len(c.src) && c.src[c.at] == ']' {
			c.at++
			c.out = append(c.out, ']')
			return nil
		}
		if !first {
			if c.at >= len(c.src) || c.src[c.at] != ',' {
				return c.fail("no comma between elements")
			}
			c.at++
			c.out = append(c.out, ',')
		}
		if err := c.value(); err != nil {
			return err
		}
	}
}

// object writes the members as they come, then, unless they came in order (protojson writes
// fields in field-number order, rarely sorted), rewrites them sorted.
func (c *canonicaliser) object() error {
	c.at++ // {
	c.out = append(c.out, '{')
	start := len(c.out)
	var members []member
	for {
		c.skipSpace()
		if c.at < len(c.src) && c.src[c.at] == '}' {
			c.at++
			break
		}
		if len(members) > 0 {
			if c.at >= len(c.src) || c.src[c.at] != ',' {
				return c.fail("no comma between members")
			}
			c.at++
			c.skipSpace()
			c.out = append(c.out, ',')
		}
		m := member{start: len(c.out)}
		if c.at >= len(c.src) || c.src[c.at] != '"' {
			return c.fail("a key that is not a string")
		}
		if err := c.string(); err != nil {
			return err
		}
		m.colon = len(c.out)
		if c.skipSpace(); c.at >= len(c.src) || c.src[c.at] != ':' {
			return c.fail("no colon after a key")
		}
		c.at++
		c.out = append(c.out, ':')
		if err := c.value(); err != nil {
			return err
		}
		m.end = len(c.out)
		members = append(members, m)
	}
	if err := c.sortMembers(start, members); err != nil {
		return err
	}
	c.out = append(c.out, '}')
	return nil
}

// sortMembers rewrites out's members, written from start in the order they came, comma
// separated, in the order of their keys.
func (c *canonicaliser) sortMembers(start int, members []member) error {
	key := func(m member) []byte { return c.out[m.start:m.colon] }
	compare := func(a, b member) int { return compareKeys(key(a), key(b)) }
	sorted := true
	for i := 1; i < len(members) && sorted; i++ {
		sorted = compare(members[i-1], members[i]) < 0
	}
	if sorted {
		return nil
	}
	slices.SortFunc(members, compare)
	for i := 1; i < len(members); i++ {
		if compare(members[i-1], members[i]) == 0 {
			return fmt.Errorf("canonical JSON: duplicate key %s", key(members[i]))
		}
	}
	c.scratch = append(c.scratch[:0], c.out[start:]...)
	c.out = c.out[:start]
	for i, m := range members {
		if i > 0 {
			c.out = append(c.out, ',')
		}
		c.out = append(c.out, c.scratch[m.start-start:m.end-start]...)
	}
	return nil
}

// compareKeys orders two keys, as written to out (quoted, escaped), by UTF-16 code units: byte
// order for plain ASCII keys (protojson's field names), decoded otherwise (map keys).
func compareKeys(a, b []byte) int {
	if plainASCII(a) && plainASCII(b) {
		return bytes.Compare(a, b)
	}
	return slices.Compare(decodeString(a), decodeString(b))
}

func plainASCII(s []byte) bool {
	for _, b := range s {
		if b >= utf8.RuneSelf || b == '\\' {
			return false
		}
	}
	return true
}

// decodeString is the UTF-16 code units of a JSON string (quotes included) that string wrote.
func decodeString(s []byte) []uint16 {
	units, _ := decodeUnits(s[1 : len(s)-1])
	return units
}

// string writes the string at c.at as JSON.stringify would: copied when it is already so
// (protojson escapes what JSON.stringify escapes, the same way), decoded and written again if not.
func (c *canonicaliser) string() error {
	start := c.at
	for i := start + 1; i < len(c.src); i++ {
		switch b := c.src[i]; {
		case b == '"':
			if !utf8.Valid(c.src[start+1 : i]) {
				return c.fail("a string that is not UTF-8")
			}
			c.out = append(c.out, c.src[start:i+1]...)
			c.at = i + 1
			return nil
		case b < 0x20:
			return c.fail("a control character in a string")
		case b == '\\':
			n := stringifyEscape(c.src[i:])
			if n == 0 {
				return c.rewriteString()
			}
			i += n - 1
		}
	}
	return c.fail("an unterminated string")
}

// stringifyEscape is the length of the escape that starts s if JSON.stringify writes it so, else 0.
func stringifyEscape(s []byte) int {
	if len(s) < 2 {
		return 0
	}
	switch s[1] {
	case '"', '\\', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		// \u00xx, lowercase, for the controls without a short escape
		if len(s) < 6 || s[2] != '0' || s[3] != '0' || (s[4] != '0' && s[4] != '1') || !lowerHex(s[5]) {
			return 0
		}
		switch s[5] {
		case '8', '9', 'a', 'c', 'd':
			if s[4] == '0' {
				return 0
			}
		}
		return 6
	}
	return 0
}

func lowerHex(b byte) bool { return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') }

// rewriteString decodes the string at c.at and writes it as JSON.stringify does.
func (c *canonicaliser) rewriteString() error {
	end := c.at + 1
	for ; end < len(c.src) && c.src[end] != '"'; end++ {
		if c.src[end] == '\\' {
			end++
		}
	}
	if end >= len(c.src) {
		return c.fail("an unterminated string")
	}
	units, err := decodeUnits(c.src[c.at+1 : end])
	if err != nil {
		return fmt.Errorf("canonical JSON: %w at offset %d", err, c.at)
	}
	c.out = appendStringified(c.out, units)
	c.at = end + 1
	return nil
}

// decodeUnits decodes the inside of a JSON string into UTF-16 code units, as JSON.parse does.
func decodeUnits(s []byte) ([]uint16, error) {
	units := make([]uint16, 0, len(s))
	for i := 0; i < len(s); {
		switch b := s[i]; {
		case b == '\\':
			if i+1 >= len(s) {
				return nil, errors.New("a truncated escape")
			}
			if u, ok := shortEscapes[s[i+1]]; ok {
				units = append(units, u)
				i += 2
				continue
			}
			if s[i+1] != 'u' || i+6 > len(s) {
				return nil, errors.New("an invalid escape")
			}
			u, err := strconv.ParseUint(string(s[i+2:i+6]), 16, 16)
			if err != nil {
				return nil, errors.New("an invalid escape")
			}
			units = append(units, uint16(u))
			i += 6
		case b < 0x20:
			return nil, errors.New("a control character in a string")
		default:
			r, n := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && n == 1 {
				return nil, errors.New("a string that is not UTF-8")
			}
			units = utf16.AppendRune(units, r)
			i += n
		}
	}
	return units, nil
}

// shortEscapes are JSON's two-character escapes, by the character after the backslash.
var shortEscapes = map[byte]uint16{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// appendStringified appends the string of UTF-16 code units as JSON.stringify writes it
// (well-formed JSON.stringify: a lone surrogate as \udxxx).
func appendStringified(out []byte, units []uint16) []byte {
	out = append(out, '"')
	for i := 0; i < len(units); i++ {
		u := units[i]
		switch {
		case u == '"' || u == '\\':
			out = append(out, '\\', byte(u))
		case u == '\b':
			out = append(out, `\b`...)
		case u == '\f':
			out = append(out, `\f`...)
		case u == '\n':
			out = append(out, `\n`...)
		case u == '\r':
			out = append(out, `\r`...)
		case u == '\t':
			out = append(out, `\t`...)
		case u < 0x20:
			out = fmt.Appendf(out, `\u%04x`, u)
		case utf16.IsSurrogate(rune(u)):
			if u < 0xdc00 && i+1 < len(units) && units[i+1] >= 0xdc00 && units[i+1] <= 0xdfff {
				out = utf8.AppendRune(out, utf16.DecodeRune(rune(u), rune(units[i+1])))
				i++
			} else {
				out = fmt.Appendf(out, `\u%04x`, u)
			}
		default:
			out = utf8.AppendRune(out, rune(u))
		}
	}
	return append(out, '"')
}

// number writes the number at c.at as JavaScript prints it once parsed (Number::toString):
// a short integer as it is, any other parsed as a double and printed again.
func (c *canonicaliser) number() error {
	start := c.at
	end := start
	if end < len(c.src) && c.src[end] == '-' {
		end++
	}
	integer := true
	for ; end < len(c.src); end++ {
		b := c.src[end]
		if b >= '0' && b <= '9' {
			continue
		}
		if b == '.' || b == 'e' || b == 'E' || b == '+' || b == '-' {
			integer = false
			continue
		}
		break
	}
	text := c.src[start:end]
	c.at = end
	digits := text
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	// Up to 15 digits an integer is a double exactly, printed as written (but -0).
	if integer && len(digits) > 0 && len(digits) <= 15 && (digits[0] != '0' || len(digits) == 1) {
		if string(text) == "-0" {
			text = digits
		}
		c.out = append(c.out, text...)
		return nil
	}
	f, err := strconv.ParseFloat(string(text), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return c.fail("an invalid number")
	}
	c.out = appendJSNumber(c.out, f)
	return nil
}

// appendJSNumber appends f as JSON.stringify prints it: Number::toString (ECMA-262), the shortest
// digits that read back as f, in plain notation for exponents from -7 to 20, else as d.ddde±n;
// null for a number that is not finite, 0 for -0.
func appendJSNumber(out []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(out, "null"...)
	}
	if f == 0 {
		return append(out, '0')
	}
	if f < 0 {
		out = append(out, '-')
		f = -f
	}
	// d.ddde±x: the digits, and n the position of the decimal point after the first digit.
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	mark := bytes.IndexByte(e, 'e')
	exponent, _ := strconv.Atoi(string(e[mark+1:]))
	digits := make([]byte, 0, mark)
	digits = append(digits, e[0])
	if mark > 1 {
		digits = append(digits, e[2:mark]...)
	}
	k, n := len(digits), exponent+1
	switch {
	case k <= n && n <= 21:
		out = append(out, digits...)
		for range n - k {
			out = append(out, '0')
		}
	case 0 < n && n <= 21:
		out = append(out, digits[:n]...)
		out = append(out, '.')
		out = append(out, digits[n:]...)
	case -6 < n && n <= 0:
		out = append(out, "0."...)
		for range -n {
			out = append(out, '0')
		}
		out = append(out, digits...)
	default:
		out = append(out, digits[0])
		if k > 1 {
			out = append(out, '.')
			out = append(out, digits[1:]...)
		}
		out = append(out, 'e')
		if n-1 >= 0 {
			out = append(out, '+')
		}
		out = strconv.AppendInt(out, int64(n-1), 10)
	}
	return out
}
