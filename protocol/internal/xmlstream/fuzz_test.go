package xmlstream_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

// checkErr fails unless err is one of the errors the decoder documents.
func checkErr(t *testing.T, err error) {
	t.Helper()
	var xe *xmlstream.Error
	switch {
	case err == io.EOF, err == xmlstream.ErrStreamEnd, errors.Is(err, io.ErrUnexpectedEOF):
	case errors.As(err, &xe):
		switch xe.Condition {
		case "not-well-formed", "restricted-xml", "policy-violation", "invalid-namespace", "unsupported-encoding":
		default:
			t.Fatalf("unexpected condition %q in %v", xe.Condition, err)
		}
	default:
		t.Fatalf("unexpected error %#v", err)
	}
}

// checkTree fails if e breaks the Element invariants.
func checkTree(t *testing.T, e *xmlstream.Element) {
	t.Helper()
	for _, a := range e.Attr {
		if a.Name.Space == "" && a.Name.Local == "xmlns" || a.Name.Space == "xmlns" {
			t.Fatalf("namespace declaration %v in Attr of %v", a.Name, e.Name)
		}
	}
	if e.Attr != nil && len(e.Attr) == 0 || e.Children != nil && len(e.Children) == 0 {
		t.Fatalf("empty non-nil slice in %v", e.Name)
	}
	for _, c := range e.Children {
		if c == nil {
			t.Fatalf("nil child in %v", e.Name)
		}
		checkTree(t, c)
	}
}

// checkRoundTrip fails unless e survives encoding and parsing, both
// standalone and inside a stream.
func checkRoundTrip(t *testing.T, e *xmlstream.Element) {
	t.Helper()
	out := xmlstream.Append(nil, e, "")
	back, err := xmlstream.Parse(out)
	if err != nil {
		t.Fatalf("Parse(Append(e)) = Parse(%q): %v", out, err)
	}
	if !reflect.DeepEqual(back, e) {
		t.Fatalf("round trip through %q:\ngot  %#v\nwant %#v", out, back, e)
	}

	var b bytes.Buffer
	if err := xmlstream.WriteHeader(&b, xmlstream.Header{NS: nsClient}); err != nil {
		t.Fatal(err)
	}
	if err := xmlstream.Encode(&b, e, nsClient); err != nil {
		t.Fatal(err)
	}
	b.WriteString(xmlstream.StreamEnd)
	encoded := b.String()
	d := xmlstream.NewDecoder(&b, xmlstream.Options{})
	if _, err := d.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	back, err = d.Next()
	if err != nil {
		t.Fatalf("decoding %q: %v", encoded, err)
	}
	if !reflect.DeepEqual(back, e) {
		t.Fatalf("stream round trip through %q:\ngot  %#v\nwant %#v", encoded, back, e)
	}
	if _, err := d.Next(); err != xmlstream.ErrStreamEnd {
		t.Fatalf("after the element in %q: %v", encoded, err)
	}
}

// FuzzDecoder feeds arbitrary bytes after a valid stream header. The decoder
// must not panic, must return only documented errors, and every element it
// returns must re-encode and re-parse equal.
func FuzzDecoder(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		r := io.MultiReader(bytes.NewReader([]byte(header)), bytes.NewReader(data))
		d := xmlstream.NewDecoder(r, xmlstream.Options{MaxElementSize: 8192, MaxDepth: 32})
		if _, err := d.ReadHeader(); err != nil {
			t.Fatal(err)
		}
		for {
			e, err := d.Next()
			if err != nil {
				checkErr(t, err)
				if _, again := d.Next(); again != err {
					t.Fatalf("Next after %v = %v", err, again)
				}
				return
			}
			checkTree(t, e)
			checkRoundTrip(t, e)
			var v struct {
				XMLName xml.Name
				Attr    []xml.Attr `xml:",any,attr"`
				Text    string     `xml:",chardata"`
			}
			if err := xml.NewTokenDecoder(e.TokenReader()).Decode(&v); err != nil {
				t.Fatalf("Decode from TokenReader: %v", err)
			}
			if v.XMLName != e.Name {
				t.Fatalf("TokenReader name %v, element %v", v.XMLName, e.Name)
			}
		}
	})
}

// FuzzParse parses arbitrary documents; what parses must round-trip.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := xmlstream.Parse(data)
		if err != nil {
			if e != nil {
				t.Fatal("element with error")
			}
			checkErr(t, err)
			if err == io.EOF || err == xmlstream.ErrStreamEnd {
				t.Fatalf("Parse returned %v", err)
			}
			return
		}
		checkTree(t, e)
		checkRoundTrip(t, e)
	})
}

// FuzzEncode encodes elements with arbitrary text and attribute values: the
// output must always parse, with forbidden characters replaced by U+FFFD.
func FuzzEncode(f *testing.F) {
	f.Fuzz(func(t *testing.T, text, value string) {
		e := xmlstream.New(nsClient, "message", "to", value).SetText(text).Append(
			&xmlstream.Element{
				Name: xml.Name{Space: "urn:x", Local: "x"},
				Attr: []xml.Attr{attr(xmlstream.NSXML, "lang", value), attr("urn:y", "y", text)},
				Text: value,
			},
		)
		out := xmlstream.Append(nil, e, "")
		back, err := xmlstream.Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q): %v", out, err)
		}
		if want := canonical(e); !reflect.DeepEqual(back, want) {
			t.Fatalf("Parse(%q) =\n%#v\nwant\n%#v", out, back, want)
		}
	})
}
