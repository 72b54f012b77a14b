package xmlstream_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

func TestAppend(t *testing.T) {
	tests := []struct {
		name      string
		el        *xmlstream.Element
		defaultNS string
		want      string
	}{
		{
			name:      "stanza in the stream namespace",
			el:        xmlstream.New(nsClient, "message", "to", "romeo@example.net", "type", "chat").Append(xmlstream.New(nsClient, "body").SetText(`a & b <c> 'd' "e" ]]>`)),
			defaultNS: nsClient,
			want:      `<message to='romeo@example.net' type='chat'><body>a &amp; b &lt;c&gt; 'd' "e" ]]&gt;</body></message>`,
		},
		{
			name: "standalone stanza declares its namespace",
			el:   xmlstream.New(nsClient, "presence"),
			want: `<presence xmlns='jabber:client'/>`,
		},
		{
			name:      "attribute escaping",
			el:        xmlstream.New("", "x", "v", "' \" \t \n \r & < >"),
			defaultNS: "",
			want:      `<x v='&apos; &quot; &#x9; &#xA; &#xD; &amp; &lt; &gt;'/>`,
		},
		{
			name: "text keeps tabs and newlines, escapes carriage returns",
			el:   xmlstream.New("", "x").SetText("a\tb\nc\r\nd"),
			want: "<x>a\tb\nc&#xD;\nd</x>",
		},
		{
			name: "characters XML forbids become U+FFFD",
			el:   xmlstream.New("", "x", "a", "1\x002").SetText("a\x00b\x1fc\ufffed\uffffe\xfff\xed\xa0\x80g\x7f\u0085\U0001F600"),
			want: "<x a='1\uFFFD2'>a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFDf\uFFFD\uFFFD\uFFFDg\x7f\u0085\U0001F600</x>",
		},
		{
			name: "namespace changes and undeclaring the default",
			el: xmlstream.New(nsClient, "iq", "type", "get").Append(
				xmlstream.New("jabber:iq:roster", "query").Append(
					xmlstream.New("jabber:iq:roster", "item", "jid", "a@b"),
					xmlstream.New("", "plain").Append(xmlstream.New("", "inner")),
				),
				xmlstream.New(nsClient, "back"),
			),
			defaultNS: nsClient,
			want:      `<iq type='get'><query xmlns='jabber:iq:roster'><item jid='a@b'/><plain xmlns=''><inner/></plain></query><back/></iq>`,
		},
		{
			name: "stream elements use the stream prefix",
			el: xmlstream.New(xmlstream.NSStream, "error").Append(
				xmlstream.New("urn:ietf:params:xml:ns:xmpp-streams", "host-unknown"),
				xmlstream.New(xmlstream.NSStream, "nested"),
				xmlstream.New(nsClient, "in-scope"),
			),
			defaultNS: nsClient,
			want: `<stream:error xmlns:stream='http://etherx.jabber.org/streams'><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>` +
				`<stream:nested/><in-scope/></stream:error>`,
		},
		{
			name:      "xml namespace element and attributes",
			el:        xmlstream.New(nsClient, "a").Append(&xmlstream.Element{Name: xml.Name{Space: xmlstream.NSXML, Local: "x"}, Children: []*xmlstream.Element{xmlstream.New(nsClient, "b")}}),
			defaultNS: nsClient,
			want:      `<a><xml:x><b/></xml:x></a>`,
		},
		{
			name: "xml:lang, both spellings",
			el: &xmlstream.Element{Name: xml.Name{Local: "body"}, Attr: attrs(attr(xmlstream.NSXML, "lang", "en"), attr("xml", "space", "preserve")),
				Text: "hi"},
			want: `<body xml:lang='en' xml:space='preserve'>hi</body>`,
		},
		{
			name: "namespaced attributes get generated prefixes",
			el: &xmlstream.Element{Name: xml.Name{Space: "urn:e", Local: "e"},
				Attr: attrs(attr("urn:x", "p", "1"), attr("", "plain", "2"), attr("urn:y", "q", "3"), attr("urn:x", "r", "4"))},
			want: `<e xmlns='urn:e' xmlns:ns1='urn:x' ns1:p='1' plain='2' xmlns:ns2='urn:y' ns2:q='3' ns1:r='4'/>`,
		},
		{
			name: "namespace declarations in Attr are ignored",
			el: &xmlstream.Element{Name: xml.Name{Space: "urn:e", Local: "e"},
				Attr: attrs(attr("", "xmlns", "urn:wrong"), attr("xmlns", "p", "urn:p"), attr("http://www.w3.org/2000/xmlns/", "q", "urn:q"), attr("", "a", "1"))},
			want: `<e xmlns='urn:e' a='1'/>`,
		},
		{
			name: "namespace values are escaped",
			el:   xmlstream.New("urn:a'b&c", "e"),
			want: `<e xmlns='urn:a&apos;b&amp;c'/>`,
		},
		{
			name: "nil children are skipped",
			el:   &xmlstream.Element{Name: xml.Name{Local: "e"}, Children: []*xmlstream.Element{nil, xmlstream.New("", "c"), nil}},
			want: `<e><c/></e>`,
		},
		{
			name: "nil element",
			el:   nil,
			want: ``,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(xmlstream.Append([]byte("prefix:"), tt.el, tt.defaultNS)); got != "prefix:"+tt.want {
				t.Errorf("Append =\n%s\nwant\n%s", got, "prefix:"+tt.want)
			}
			var b bytes.Buffer
			if err := xmlstream.Encode(&b, tt.el, tt.defaultNS); err != nil || b.String() != tt.want {
				t.Errorf("Encode = %q, %v; want %q", b.String(), err, tt.want)
			}
			if tt.el == nil {
				return
			}
			// The output is well-formed and means the same in its
			// context.
			doc := "<wrap xmlns='" + tt.defaultNS + "'>" + tt.want + "</wrap>"
			if tt.defaultNS == "" {
				doc = "<wrap>" + tt.want + "</wrap>"
			}
			w, err := xmlstream.Parse([]byte(doc))
			if err != nil {
				t.Fatalf("Parse(%s): %v", doc, err)
			}
			if len(w.Children) != 1 {
				t.Fatalf("Parse(%s) has %d children", doc, len(w.Children))
			}
			want := canonical(tt.el)
			if !reflect.DeepEqual(w.Children[0], want) {
				t.Errorf("re-parsed\n%#v\nwant\n%#v", w.Children[0], want)
			}
		})
	}
}

// canonical returns what the encoder promises to preserve of e: namespace
// declarations dropped, "xml" attribute prefixes resolved, nil children
// removed, forbidden characters replaced.
func canonical(e *xmlstream.Element) *xmlstream.Element {
	c := &xmlstream.Element{Name: e.Name, Text: fix(e.Text)}
	for _, a := range e.Attr {
		switch {
		case a.Name.Space == "" && a.Name.Local == "xmlns", a.Name.Space == "xmlns", a.Name.Space == "http://www.w3.org/2000/xmlns/":
			continue
		case a.Name.Space == "xml":
			a.Name.Space = xmlstream.NSXML
		}
		a.Value = fix(a.Value)
		c.Attr = append(c.Attr, a)
	}
	for _, ch := range e.Children {
		if ch != nil {
			c.Children = append(c.Children, canonical(ch))
		}
	}
	return c
}

func fix(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if r == utf8.RuneError && n == 1 || !(r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000) {
			r = '\uFFFD'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func TestString(t *testing.T) {
	e := xmlstream.New(nsClient, "message", "id", "1").Append(xmlstream.New("urn:xmpp:receipts", "request"))
	if got, want := e.String(), `<message xmlns='jabber:client' id='1'><request xmlns='urn:xmpp:receipts'/></message>`; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
	var nilEl *xmlstream.Element
	if got := nilEl.String(); got != "" {
		t.Errorf("nil String() = %q", got)
	}
}

func TestEncodeWriteError(t *testing.T) {
	boom := errors.New("broken pipe")
	if err := xmlstream.Encode(failWriter{boom}, xmlstream.New("", "x"), ""); !errors.Is(err, boom) {
		t.Errorf("Encode error = %v, want %v", err, boom)
	}
	if err := xmlstream.WriteHeader(failWriter{boom}, xmlstream.Header{}); !errors.Is(err, boom) {
		t.Errorf("WriteHeader error = %v, want %v", err, boom)
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

func TestWriteHeader(t *testing.T) {
	tests := []struct {
		name string
		h    xmlstream.Header
		want string
	}{
		{
			name: "full",
			h:    xmlstream.Header{To: "im.example.com", From: "juliet@im.example.com", ID: "abc", Version: "1.0", Lang: "en", NS: nsClient},
			want: `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' ` +
				`to='im.example.com' from='juliet@im.example.com' id='abc' version='1.0' xml:lang='en'>`,
		},
		{
			name: "empty fields omitted",
			h:    xmlstream.Header{To: "example.net", Version: "1.0", NS: nsClient},
			want: `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.net' version='1.0'>`,
		},
		{
			name: "escaped",
			h:    xmlstream.Header{To: `a'b"c<d&`, NS: "urn:'x"},
			want: `<?xml version='1.0'?><stream:stream xmlns='urn:&apos;x' xmlns:stream='http://etherx.jabber.org/streams' to='a&apos;b&quot;c&lt;d&amp;'>`,
		},
		{
			name: "no namespace",
			h:    xmlstream.Header{},
			want: `<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := xmlstream.WriteHeader(&b, tt.h); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("WriteHeader =\n%s\nwant\n%s", b.String(), tt.want)
			}
			// What we write, we read back.
			b.WriteString(xmlstream.StreamEnd)
			d := xmlstream.NewDecoder(&b, xmlstream.Options{})
			h, err := d.ReadHeader()
			if err != nil || h != tt.h {
				t.Errorf("ReadHeader = %+v, %v; want %+v", h, err, tt.h)
			}
			if _, err := d.Next(); err != xmlstream.ErrStreamEnd {
				t.Errorf("Next = %v, want ErrStreamEnd", err)
			}
		})
	}
}

// roundTripCorpus holds standalone documents, many from RFC 6120 and XEP
// examples.
var roundTripCorpus = []string{
	`<message xmlns='jabber:client' from='juliet@example.com/balcony' id='ktx72v49' to='romeo@example.net' type='chat' xml:lang='en'><body>Art thou not Romeo, and a Montague?</body></message>`,
	`<presence xmlns='jabber:client' from='romeo@example.net/orchard' xml:lang='en'><show>dnd</show><status>Wooing Juliet</status><status xml:lang='cs'>Dvořím se Julii</status><priority>1</priority></presence>`,
	`<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1-PLUS</mechanism><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms></stream:features>`,
	`<stream:error xmlns:stream='http://etherx.jabber.org/streams'><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>Some special application diagnostic information!</text><escape-your-data xmlns='http://example.org/ns'/></stream:error>`,
	`<iq xmlns='jabber:client' from='juliet@example.com/balcony' id='rg1' type='get'><query xmlns='jabber:iq:roster'/></iq>`,
	`<iq xmlns='jabber:client' type='error' id='x'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>&lt;nope&gt;</text></error></iq>`,
	`<message xmlns="jabber:client" to="romeo@montague.lit"><result xmlns="urn:xmpp:mam:2" queryid="f27" id="28482-98726-73623"><forwarded xmlns="urn:xmpp:forward:0"><delay xmlns="urn:xmpp:delay" stamp="2010-07-10T23:08:25Z"/><message xmlns="jabber:client" to="juliet@capulet.lit/balcony" from="romeo@montague.lit/orchard" type="chat"><body>Call me but love, and I'll be new baptized; Henceforth I never will be Romeo.</body></message></forwarded></result></message>`,
	`<a xmlns='urn:xmpp:sm:3' h='1'/>`,
	`<x xmlns:p='urn:p' xmlns:q='urn:q' p:a='1' q:a='2' a='3'><p:y q:b='&#9;&#10;&#13;'><z xmlns=''/></p:y></x>`,
	`<html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'><p style='font-weight:bold'>hi <em>there</em>!</p></body></html>`,
	"<pretty>\n  <printed>\r\n    <text>  spaces\tand tabs  </text>\n  </printed>\n</pretty>",
	`<x><![CDATA[<not> & markup]]>after</x>`,
	`<xml:a><xml:b xml:lang='en'/></xml:a>`,
	`<x a="'" b='"' c='&apos;&quot;&gt;'>&#x10FFFF;&#xFFFD;&#x85;</x>`,
}

// TestRoundTrip checks Parse(Append(e)) == e for parsed trees, standalone
// and inside a stream.
func TestRoundTrip(t *testing.T) {
	for _, doc := range roundTripCorpus {
		e, err := xmlstream.Parse([]byte(doc))
		if err != nil {
			t.Errorf("Parse(%s): %v", doc, err)
			continue
		}
		out := xmlstream.Append(nil, e, "")
		back, err := xmlstream.Parse(out)
		if err != nil {
			t.Errorf("Parse(Append(%s)) = Parse(%s): %v", doc, out, err)
			continue
		}
		if !reflect.DeepEqual(back, e) {
			t.Errorf("round trip of %s through %s:\ngot  %#v\nwant %#v", doc, out, back, e)
		}
		if !reflect.DeepEqual(e.Copy(), e) {
			t.Errorf("Copy of %s differs", doc)
		}
	}

	// In a stream: the elements of a stream are written with the
	// stream's default namespace and read back equal.
	d := xmlstream.NewDecoder(strings.NewReader(benchHeader+string(mixBytes(2))), xmlstream.Options{})
	if _, err := d.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	els, err := readAll(d)
	if err != io.EOF || len(els) != 40 {
		t.Fatalf("read %d elements, %v", len(els), err)
	}
	var b bytes.Buffer
	if err := xmlstream.WriteHeader(&b, xmlstream.Header{NS: nsClient, Version: "1.0"}); err != nil {
		t.Fatal(err)
	}
	for _, e := range els {
		if err := xmlstream.Encode(&b, e, nsClient); err != nil {
			t.Fatal(err)
		}
	}
	b.WriteString(xmlstream.StreamEnd)
	d = xmlstream.NewDecoder(&b, xmlstream.Options{})
	if _, err := d.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	back, err := readAll(d)
	if err != xmlstream.ErrStreamEnd {
		t.Fatalf("re-reading the stream: %v", err)
	}
	if !reflect.DeepEqual(back, els) {
		t.Errorf("stream round trip differs")
	}
	if got := els[0].String(); !strings.HasPrefix(got, `<message xmlns='jabber:client' from='juliet@capulet.lit/balcony'`) {
		t.Errorf("first element = %s", got)
	}
}
