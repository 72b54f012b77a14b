package xmlstream_test

import (
	"bufio"
	"encoding/xml"
	"errors"
	"io"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

const (
	nsClient = "jabber:client"
	header   = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' ` +
		`xmlns:stream='http://etherx.jabber.org/streams' from='im.example.com' id='t7AMCin9zjMNwQKDnplntZPIDEI=' ` +
		`to='juliet@im.example.com' version='1.0' xml:lang='en'>`
)

// el builds an element for expectations.
func el(space, local string, attrs []xml.Attr, text string, children ...*xmlstream.Element) *xmlstream.Element {
	return &xmlstream.Element{Name: xml.Name{Space: space, Local: local}, Attr: attrs, Text: text, Children: children}
}

func attr(space, local, value string) xml.Attr {
	return xml.Attr{Name: xml.Name{Space: space, Local: local}, Value: value}
}

func attrs(a ...xml.Attr) []xml.Attr { return a }

// shortHeader fits in the small limits of the size tests.
const shortHeader = `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`

// stream returns a decoder over a stream header and body, whose header was
// read. Small limits get a short header.
func stream(t *testing.T, body string, opts xmlstream.Options) *xmlstream.Decoder {
	t.Helper()
	h := header
	if opts.MaxElementSize > 0 && opts.MaxElementSize < int64(len(header)) {
		h = shortHeader
	}
	d := xmlstream.NewDecoder(strings.NewReader(h+body), opts)
	if _, err := d.ReadHeader(); err != nil {
		t.Fatalf("ReadHeader: %v", err)
	}
	return d
}

// readAll returns the elements up to the first error, and that error.
func readAll(d *xmlstream.Decoder) ([]*xmlstream.Element, error) {
	var els []*xmlstream.Element
	for {
		e, err := d.Next()
		if err != nil {
			return els, err
		}
		els = append(els, e)
	}
}

func TestReadHeader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want xmlstream.Header
	}{
		{
			name: "RFC 6120 example",
			in:   header,
			want: xmlstream.Header{To: "juliet@im.example.com", From: "im.example.com", ID: "t7AMCin9zjMNwQKDnplntZPIDEI=", Version: "1.0", Lang: "en", NS: nsClient},
		},
		{
			name: "no XML declaration, double quotes, escaped value",
			in:   `<stream:stream xmlns:stream="http://etherx.jabber.org/streams" xmlns="jabber:server" to="a&amp;b" version="1.0">`,
			want: xmlstream.Header{To: "a&b", Version: "1.0", NS: "jabber:server"},
		},
		{
			name: "other prefix for the stream namespace",
			in:   `<s:stream xmlns:s='http://etherx.jabber.org/streams' xmlns='jabber:client' xml:lang='de'>`,
			want: xmlstream.Header{Lang: "de", NS: nsClient},
		},
		{
			name: "stream namespace as default namespace",
			in:   `<stream xmlns='http://etherx.jabber.org/streams' from='example.net'>`,
			want: xmlstream.Header{From: "example.net", NS: xmlstream.NSStream},
		},
		{
			name: "declaration with encoding, whitespace after it",
			in:   "<?xml version='1.0' encoding='UTF-8'?>\n\t<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='x'>",
			want: xmlstream.Header{ID: "x", NS: nsClient},
		},
		{
			name: "namespaced attribute is not a header field",
			in:   `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' xmlns:p='urn:p' p:to='nope' to='yes'>`,
			want: xmlstream.Header{To: "yes", NS: nsClient},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := xmlstream.NewDecoder(strings.NewReader(tt.in), xmlstream.Options{})
			h, err := d.ReadHeader()
			if err != nil {
				t.Fatalf("ReadHeader: %v", err)
			}
			if h != tt.want {
				t.Errorf("header = %+v, want %+v", h, tt.want)
			}
			if _, err := d.Next(); err != io.EOF {
				t.Errorf("Next after header = %v, want io.EOF", err)
			}
		})
	}
}

func TestReadHeaderErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"wrong stream namespace", `<stream:stream xmlns:stream='http://wrong.namespace.example.org/' xmlns='jabber:client'>`, xmlstream.ErrInvalidNamespace},
		{"wrong local name", `<stream:streams xmlns:stream='http://etherx.jabber.org/streams'>`, xmlstream.ErrInvalidNamespace},
		{"not a stream", `<message xmlns='jabber:client'/>`, xmlstream.ErrInvalidNamespace},
		{"unbound stream prefix", `<stream:stream xmlns='jabber:client'>`, xmlstream.ErrNotWellFormed},
		{"text before header", `hello<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>`, xmlstream.ErrNotWellFormed},
		{"end tag first", `</stream:stream>`, xmlstream.ErrNotWellFormed},
		{"declaration after whitespace", ` <?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>`, xmlstream.ErrRestrictedXML},
		{"two declarations", `<?xml version='1.0'?><?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>`, xmlstream.ErrRestrictedXML},
		{"processing instruction", `<?xml-stylesheet href='a'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>`, xmlstream.ErrRestrictedXML},
		{"comment", `<!-- hi --><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>`, xmlstream.ErrRestrictedXML},
		{"DOCTYPE", `<?xml version='1.0'?><!DOCTYPE stream:stream [<!ENTITY a 'b'>]><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>`, xmlstream.ErrRestrictedXML},
		{"encoding", `<?xml version='1.0' encoding='ISO-8859-1'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>`, xmlstream.ErrUnsupportedEncoding},
		{"XML 1.1", `<?xml version='1.1'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>`, xmlstream.ErrNotWellFormed},
		{"syntax", `<stream:stream xmlns:stream='http://etherx.jabber.org/streams' to=x>`, xmlstream.ErrNotWellFormed},
		{"nothing", ``, io.EOF},
		{"truncated header", `<stream:stream xmlns:stream='http://etherx`, io.ErrUnexpectedEOF},
		{"only declaration", `<?xml version='1.0'?>`, io.ErrUnexpectedEOF},
		{"too large", `<stream:stream xmlns:stream='http://etherx.jabber.org/streams' to='` + strings.Repeat("a", 200) + `'>`, xmlstream.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := xmlstream.NewDecoder(strings.NewReader(tt.in), xmlstream.Options{MaxElementSize: 128})
			_, err := d.ReadHeader()
			if !errors.Is(err, tt.want) {
				t.Fatalf("ReadHeader error = %v, want %v", err, tt.want)
			}
			if _, err2 := d.Next(); err2 != err {
				t.Errorf("Next after failed ReadHeader = %v, want the same error %v", err2, err)
			}
		})
	}
}

func TestNext(t *testing.T) {
	const nsStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas"
	tests := []struct {
		name string
		in   string
		want []*xmlstream.Element
	}{
		{
			name: "stream features (RFC 6120 §5.4.1)",
			in: `<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>` +
				`<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1-PLUS</mechanism><mechanism>PLAIN</mechanism></mechanisms></stream:features>`,
			want: []*xmlstream.Element{
				el(xmlstream.NSStream, "features", nil, "",
					el("urn:ietf:params:xml:ns:xmpp-tls", "starttls", nil, "",
						el("urn:ietf:params:xml:ns:xmpp-tls", "required", nil, "")),
					el("urn:ietf:params:xml:ns:xmpp-sasl", "mechanisms", nil, "",
						el("urn:ietf:params:xml:ns:xmpp-sasl", "mechanism", nil, "SCRAM-SHA-1-PLUS"),
						el("urn:ietf:params:xml:ns:xmpp-sasl", "mechanism", nil, "PLAIN"))),
			},
		},
		{
			name: "stream error right after the header (RFC 6120 §4.9.3.10)",
			in:   `<stream:error><invalid-namespace xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>`,
			want: []*xmlstream.Element{
				el(xmlstream.NSStream, "error", nil, "", el("urn:ietf:params:xml:ns:xmpp-streams", "invalid-namespace", nil, "")),
			},
		},
		{
			name: "message inherits jabber:client, xml:lang, entities",
			in: `<message from='juliet@im.example.com/balcony' to='romeo@example.net' type='chat' xml:lang='en'>` +
				`<body>Wherefore art thou, Romeo? &lt;3 &amp; &#x1F339; &#65;</body>` +
				`<body xml:lang='fr'>Roméo</body></message>`,
			want: []*xmlstream.Element{
				el(nsClient, "message", attrs(attr("", "from", "juliet@im.example.com/balcony"), attr("", "to", "romeo@example.net"),
					attr("", "type", "chat"), attr(xmlstream.NSXML, "lang", "en")), "",
					el(nsClient, "body", nil, "Wherefore art thou, Romeo? <3 & 🌹 A"),
					el(nsClient, "body", attrs(attr(xmlstream.NSXML, "lang", "fr")), "Roméo")),
			},
		},
		{
			name: "whitespace keepalives between elements",
			in:   " \n<r xmlns='urn:xmpp:sm:3'/>\t \r\n <a xmlns='urn:xmpp:sm:3' h='3'/> ",
			want: []*xmlstream.Element{
				el("urn:xmpp:sm:3", "r", nil, ""),
				el("urn:xmpp:sm:3", "a", attrs(attr("", "h", "3")), ""),
			},
		},
		{
			name: "prefixed namespaces, attribute namespaces, undeclaring the default",
			in: `<iq type='error' id='x' xmlns:e='` + nsStanzas + `'><e:error type='cancel' xmlns:d='urn:d' d:by='me'>` +
				`<e:item-not-found/><plain xmlns=''><inner/></plain></e:error></iq>`,
			want: []*xmlstream.Element{
				el(nsClient, "iq", attrs(attr("", "type", "error"), attr("", "id", "x")), "",
					el(nsStanzas, "error", attrs(attr("", "type", "cancel"), attr("urn:d", "by", "me")), "",
						el(nsStanzas, "item-not-found", nil, ""),
						el("", "plain", nil, "", el("", "inner", nil, "")))),
			},
		},
		{
			name: "non-ASCII names",
			in:   "<p:é xmlns:p='urn:p' p:ü='1'><ñ/></p:é>",
			want: []*xmlstream.Element{el("urn:p", "é", attrs(attr("urn:p", "ü", "1")), "", el(nsClient, "ñ", nil, ""))},
		},
		{
			name: "prefix redeclared in a child, then back in scope",
			in:   `<a xmlns:p='urn:1'><p:b xmlns:p='urn:2'><p:c/></p:b><p:d/></a>`,
			want: []*xmlstream.Element{
				el(nsClient, "a", nil, "",
					el("urn:2", "b", nil, "", el("urn:2", "c", nil, "")),
					el("urn:1", "d", nil, "")),
			},
		},
		{
			name: "stream prefix usable in stanzas",
			in:   `<message><stream:x/></message>`,
			want: []*xmlstream.Element{el(nsClient, "message", nil, "", el(xmlstream.NSStream, "x", nil, ""))},
		},
		{
			name: "text around children is concatenated, CDATA allowed",
			in:   "<body>one <![CDATA[<two>]]>\r\n<x/> three</body>",
			want: []*xmlstream.Element{el(nsClient, "body", nil, "one <two>\n three", el(nsClient, "x", nil, ""))},
		},
		{
			name: "MAM result with forwarded message (XEP-0313 example)",
			in: `<message id='aeb213' to='juliet@capulet.lit/chamber'><result xmlns='urn:xmpp:mam:2' queryid='f27' id='28482-98726-73623'>` +
				`<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>` +
				`<message xmlns='jabber:client' from='witch@shakespeare.lit' to='macbeth@shakespeare.lit'>` +
				`<body>Hail to thee</body></message></forwarded></result></message>`,
			want: []*xmlstream.Element{
				el(nsClient, "message", attrs(attr("", "id", "aeb213"), attr("", "to", "juliet@capulet.lit/chamber")), "",
					el("urn:xmpp:mam:2", "result", attrs(attr("", "queryid", "f27"), attr("", "id", "28482-98726-73623")), "",
						el("urn:xmpp:forward:0", "forwarded", nil, "",
							el("urn:xmpp:delay", "delay", attrs(attr("", "stamp", "2010-07-10T23:08:25Z")), ""),
							el(nsClient, "message", attrs(attr("", "from", "witch@shakespeare.lit"), attr("", "to", "macbeth@shakespeare.lit")), "",
								el(nsClient, "body", nil, "Hail to thee"))))),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := stream(t, tt.in, xmlstream.Options{})
			got, err := readAll(d)
			if err != io.EOF && err != xmlstream.ErrStreamEnd {
				t.Fatalf("Next error = %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}

func TestStreamEnd(t *testing.T) {
	tests := []struct {
		name, in string
		elements int
		want     error
	}{
		{"stream end", `<presence/></stream:stream>`, 1, xmlstream.ErrStreamEnd},
		{"stream end with space in tag", "<presence/>\n</stream:stream >", 1, xmlstream.ErrStreamEnd},
		{"clean EOF between elements", `<presence/>  `, 1, io.EOF},
		{"EOF inside start tag", `<presence/><message to='a`, 1, io.ErrUnexpectedEOF},
		{"EOF inside element", `<presence/><message><body>hi`, 1, io.ErrUnexpectedEOF},
		{"EOF inside end tag", `<message></mess`, 0, io.ErrUnexpectedEOF},
		{"EOF inside CDATA", `<message><![CDATA[abc`, 0, io.ErrUnexpectedEOF},
		{"wrong end tag at stream level", `<presence/></stream>`, 1, xmlstream.ErrNotWellFormed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := stream(t, tt.in, xmlstream.Options{})
			els, err := readAll(d)
			if len(els) != tt.elements {
				t.Errorf("got %d elements, want %d", len(els), tt.elements)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
			for range 2 {
				if _, again := d.Next(); again != err {
					t.Errorf("Next after %v = %v, want the same error", err, again)
				}
			}
		})
	}

	t.Run("stream with default stream namespace", func(t *testing.T) {
		d := xmlstream.NewDecoder(strings.NewReader(`<stream xmlns='http://etherx.jabber.org/streams'><features/></stream>`), xmlstream.Options{})
		if _, err := d.ReadHeader(); err != nil {
			t.Fatal(err)
		}
		e, err := d.Next()
		if err != nil || !e.Is(xmlstream.NSStream, "features") {
			t.Fatalf("Next = %v, %v; want stream features", e, err)
		}
		if _, err := d.Next(); err != xmlstream.ErrStreamEnd {
			t.Fatalf("Next = %v, want ErrStreamEnd", err)
		}
	})
	t.Run("self-closing stream header", func(t *testing.T) {
		d := xmlstream.NewDecoder(strings.NewReader(`<stream:stream xmlns:stream='http://etherx.jabber.org/streams'/>`), xmlstream.Options{})
		if _, err := d.ReadHeader(); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Next(); err != xmlstream.ErrStreamEnd {
			t.Fatalf("Next = %v, want ErrStreamEnd", err)
		}
	})
}

func TestNextErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     error
	}{
		{"DOCTYPE", `<!DOCTYPE message>`, xmlstream.ErrRestrictedXML},
		{"internal DTD subset", `<!DOCTYPE m [<!ELEMENT m ANY>]><m/>`, xmlstream.ErrRestrictedXML},
		{"entity declaration", `<!ENTITY lol "lol">`, xmlstream.ErrRestrictedXML},
		{"other declaration", `<!ELEMENT m ANY>`, xmlstream.ErrRestrictedXML},
		{"processing instruction", `<?php echo 1; ?>`, xmlstream.ErrRestrictedXML},
		{"XML declaration inside the stream", `<?xml version='1.0'?>`, xmlstream.ErrRestrictedXML},
		{"processing instruction in a stanza", `<message><?pi x?></message>`, xmlstream.ErrRestrictedXML},
		{"comment", `<!-- hello -->`, xmlstream.ErrRestrictedXML},
		{"comment in a stanza", `<message><body>a<!-- b --></body></message>`, xmlstream.ErrRestrictedXML},
		{"undefined entity", `<message><body>&foo;</body></message>`, xmlstream.ErrNotWellFormed},
		{"undefined entity in attribute", `<message to='&foo;'/>`, xmlstream.ErrNotWellFormed},
		{"entity without semicolon", `<message><body>&amp</body></message>`, xmlstream.ErrNotWellFormed},
		{"character reference to NUL", `<message><body>&#0;</body></message>`, xmlstream.ErrNotWellFormed},
		{"control character", "<message><body>\x01</body></message>", xmlstream.ErrNotWellFormed},
		{"invalid UTF-8", "<message><body>\xff</body></message>", xmlstream.ErrNotWellFormed},
		{"mismatched end tag", `<message></presence>`, xmlstream.ErrNotWellFormed},
		{"mismatched prefix", `<a xmlns:p='urn:p' xmlns:q='urn:p'><p:b></q:b></a>`, xmlstream.ErrNotWellFormed},
		{"unquoted attribute", `<message to=romeo/>`, xmlstream.ErrNotWellFormed},
		{"attribute without value", `<message disabled/>`, xmlstream.ErrNotWellFormed},
		{"less-than in attribute", `<message to='<'/>`, xmlstream.ErrNotWellFormed},
		{"]]> in text", `<message><body>]]></body></message>`, xmlstream.ErrNotWellFormed},
		{"text at stream level", `hello <message/>`, xmlstream.ErrNotWellFormed},
		{"CDATA text at stream level", `<![CDATA[x]]>`, xmlstream.ErrNotWellFormed},
		{"unbound element prefix", `<foo:message/>`, xmlstream.ErrNotWellFormed},
		{"unbound attribute prefix", `<message foo:to='x'/>`, xmlstream.ErrNotWellFormed},
		{"prefix out of scope", `<a><b xmlns:p='urn:p'/><p:c/></a>`, xmlstream.ErrNotWellFormed},
		{"duplicate attribute", `<message to='a' to='b'/>`, xmlstream.ErrNotWellFormed},
		{"duplicate among many attributes", `<message` + manyAttrs(20) + ` a3='x'/>`, xmlstream.ErrNotWellFormed},
		{"duplicate expanded name among many attributes", `<message xmlns:p='urn:a' xmlns:q='urn:a'` + manyAttrs(20) + ` p:x='1' q:x='2'/>`, xmlstream.ErrNotWellFormed},
		{"duplicate namespace declaration", `<message xmlns:p='urn:a' xmlns:p='urn:b'/>`, xmlstream.ErrNotWellFormed},
		{"duplicate default namespace declaration", `<message xmlns='urn:a' xmlns='urn:b'/>`, xmlstream.ErrNotWellFormed},
		{"duplicate expanded attribute name", `<message xmlns:p='urn:a' xmlns:q='urn:a' p:x='1' q:x='2'/>`, xmlstream.ErrNotWellFormed},
		{"element with xmlns prefix", `<xmlns:message/>`, xmlstream.ErrNotWellFormed},
		{"declaring xmlns", `<message xmlns:xmlns='urn:x'/>`, xmlstream.ErrNotWellFormed},
		{"rebinding xml", `<message xmlns:xml='urn:x'/>`, xmlstream.ErrNotWellFormed},
		{"binding the xml namespace", `<message xmlns:x='http://www.w3.org/XML/1998/namespace'/>`, xmlstream.ErrNotWellFormed},
		{"xml namespace as default", `<message xmlns='http://www.w3.org/XML/1998/namespace'/>`, xmlstream.ErrNotWellFormed},
		{"xmlns namespace as default", `<message xmlns='http://www.w3.org/2000/xmlns/'/>`, xmlstream.ErrNotWellFormed},
		{"namespace named xmlns", `<message xmlns:p='xmlns' p:x='1'/>`, xmlstream.ErrNotWellFormed},
		{"default namespace named xml", `<message xmlns='xml'/>`, xmlstream.ErrNotWellFormed},
		{"undeclaring a prefix", `<message xmlns:p=''/>`, xmlstream.ErrNotWellFormed},
		{"colon at end of name", `<message: xmlns='urn:x'/>`, xmlstream.ErrNotWellFormed},
		{"colon at start of name", `<:message/>`, xmlstream.ErrNotWellFormed},
		{"two colons", `<a:b:c xmlns:a='urn:a'/>`, xmlstream.ErrNotWellFormed},
		{"colon in attribute name", `<message to:='x'/>`, xmlstream.ErrNotWellFormed},
		{"invalid name", `<1message/>`, xmlstream.ErrNotWellFormed},
		{"local name starts with a digit", `<p:0 xmlns:p='urn:p'/>`, xmlstream.ErrNotWellFormed},
		{"local name starts with a combining mark", "<p:\u0301a xmlns:p='urn:p'/>", xmlstream.ErrNotWellFormed},
		{"attribute local name starts with a hyphen", `<message xmlns:p='urn:p' p:-x='1'/>`, xmlstream.ErrNotWellFormed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := stream(t, "<presence/>"+tt.in+"<presence/>", xmlstream.Options{})
			if e, err := d.Next(); err != nil || !e.Is(nsClient, "presence") {
				t.Fatalf("first Next = %v, %v", e, err)
			}
			e, err := d.Next()
			if !errors.Is(err, tt.want) {
				t.Fatalf("Next = %v, %v; want error %v", e, err, tt.want)
			}
			var xe *xmlstream.Error
			if !errors.As(err, &xe) || xe.Text == "" {
				t.Errorf("error %v is not an *Error with a text", err)
			}
			if _, again := d.Next(); again != err {
				t.Errorf("Next after %v = %v, want the same error", err, again)
			}
		})
	}
}

// manyAttrs returns n attributes a0='0' a1='1' ….
func manyAttrs(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(" a" + strconv.Itoa(i) + "='" + strconv.Itoa(i) + "'")
	}
	return b.String()
}

func TestManyAttributes(t *testing.T) {
	d := stream(t, `<message xmlns:p='urn:p'`+manyAttrs(40)+` p:a0='x'/>`, xmlstream.Options{})
	e, err := d.Next()
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Attr) != 41 || e.Get("a39") != "39" || e.Attr[40] != attr("urn:p", "a0", "x") {
		t.Errorf("attributes = %v", e.Attr)
	}
}

func TestErrorValues(t *testing.T) {
	d := stream(t, `<message><body>`+strings.Repeat("x", 100)+`</body></message>`, xmlstream.Options{MaxElementSize: 100})
	_, err := d.Next()
	if got, want := err.Error(), "xml: stanza exceeds the 100-byte limit"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var xe *xmlstream.Error
	if !errors.As(err, &xe) || xe.Condition != "policy-violation" {
		t.Fatalf("error %#v, want *Error with condition policy-violation", err)
	}
	if !errors.Is(err, xmlstream.ErrTooLarge) {
		t.Error("errors.Is(err, ErrTooLarge) = false")
	}
	for _, other := range []error{xmlstream.ErrNotWellFormed, xmlstream.ErrRestrictedXML, xmlstream.ErrInvalidNamespace, xmlstream.ErrUnsupportedEncoding, xmlstream.ErrStreamEnd, io.EOF} {
		if errors.Is(err, other) {
			t.Errorf("errors.Is(err, %v) = true", other)
		}
	}
	if !errors.Is(&xmlstream.Error{Condition: "restricted-xml", Text: "anything"}, xmlstream.ErrRestrictedXML) {
		t.Error("an *Error with condition restricted-xml is not ErrRestrictedXML")
	}
	if got := (&xmlstream.Error{Condition: "not-well-formed"}).Error(); got != "xml: not-well-formed" {
		t.Errorf("Error() without text = %q", got)
	}
	wrapped := errors.Join(errors.New("session"), &xmlstream.Error{Condition: "invalid-namespace"})
	if !errors.Is(wrapped, xmlstream.ErrInvalidNamespace) {
		t.Error("wrapped *Error does not match its sentinel")
	}
}

func TestErrorTextBounded(t *testing.T) {
	long := strings.Repeat("n", 10000)
	for _, in := range []string{
		"<" + long + ":a/>",
		"<a></" + long + ">",
		"<?" + long + "?>",
		"<a " + long + "='1' " + long + "='2'/>",
		"<a 1" + long + "='1'/>",
		"<a></a" + long + " x>",
	} {
		d := stream(t, in, xmlstream.Options{})
		_, err := d.Next()
		if err == nil || len(err.Error()) > 400 {
			t.Errorf("error for %.20q… = %d bytes: %.100v", in, len(err.Error()), err)
		}
	}
}

func TestSizeLimit(t *testing.T) {
	const limit = 100
	exact := `<message><body>` + strings.Repeat("x", limit-len(`<message><body></body></message>`)) + `</body></message>`
	if len(exact) != limit {
		t.Fatalf("test element is %d bytes", len(exact))
	}
	over := strings.Replace(exact, "x", "xy", 1)
	tests := []struct {
		name, in string
		elements int
		want     error
	}{
		{"element of exactly the limit", exact, 1, io.EOF},
		{"element one byte over", over, 0, xmlstream.ErrTooLarge},
		{"each element has its own budget", strings.Repeat(exact, 20), 20, io.EOF},
		{"whitespace before an element is not counted in it", strings.Repeat(" ", 50) + exact + strings.Repeat(" ", 50) + exact, 2, io.EOF},
		{"whitespace run over the limit", strings.Repeat(" ", limit+1) + exact, 0, xmlstream.ErrTooLarge},
		// The run includes the '<' that ends it.
		{"whitespace run just under the limit", strings.Repeat(" ", limit-1) + exact, 1, io.EOF},
		{"long tag name", "<" + strings.Repeat("m", 200) + "/>", 0, xmlstream.ErrTooLarge},
		{"long attribute", "<message to='" + strings.Repeat("a", 200) + "'/>", 0, xmlstream.ErrTooLarge},
		{"long comment is too large before it is restricted", "<!--" + strings.Repeat("-a", 200) + "-->", 0, xmlstream.ErrTooLarge},
		{"long DOCTYPE", "<!DOCTYPE " + strings.Repeat("a", 200) + ">", 0, xmlstream.ErrTooLarge},
		{"many small children", "<a>" + strings.Repeat("<b/>", 30) + "</a>", 0, xmlstream.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := stream(t, tt.in, xmlstream.Options{MaxElementSize: limit})
			els, err := readAll(d)
			if len(els) != tt.elements {
				t.Errorf("got %d elements, want %d", len(els), tt.elements)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDefaultLimit(t *testing.T) {
	body := strings.Repeat("a", xmlstream.DefaultMaxElementSize-len(`<message><body></body></message>`))
	d := stream(t, `<message><body>`+body+`</body></message><message><body>a`+body+`</body></message>`, xmlstream.Options{})
	e, err := d.Next()
	if err != nil || len(e.ChildText(nsClient, "body")) != len(body) {
		t.Fatalf("element of exactly DefaultMaxElementSize: %v", err)
	}
	if _, err := d.Next(); !errors.Is(err, xmlstream.ErrTooLarge) {
		t.Fatalf("element one byte over DefaultMaxElementSize: %v", err)
	}
}

func TestDepthLimit(t *testing.T) {
	nest := func(n int) string {
		return strings.Repeat("<a>", n) + strings.Repeat("</a>", n)
	}
	d := stream(t, nest(10)+nest(11), xmlstream.Options{MaxDepth: 10})
	if _, err := d.Next(); err != nil {
		t.Fatalf("depth 10: %v", err)
	}
	if _, err := d.Next(); !errors.Is(err, xmlstream.ErrTooLarge) {
		t.Fatalf("depth 11: %v, want policy-violation", err)
	}

	d = stream(t, nest(xmlstream.DefaultMaxDepth)+nest(xmlstream.DefaultMaxDepth+1), xmlstream.Options{})
	if _, err := d.Next(); err != nil {
		t.Fatalf("default depth: %v", err)
	}
	if _, err := d.Next(); !errors.Is(err, xmlstream.ErrTooLarge) {
		t.Fatalf("default depth + 1: %v, want policy-violation", err)
	}
}

// endless repeats a pattern forever and counts what was read.
type endless struct {
	pattern []byte
	off     int
	n       int64
}

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = e.pattern[e.off]
		e.off = (e.off + 1) % len(e.pattern)
	}
	e.n += int64(len(p))
	return len(p), nil
}

// TestEndlessInput checks that a peer sending an element that never ends gets
// ErrTooLarge after about the limit, with memory bounded near the limit.
func TestEndlessInput(t *testing.T) {
	tests := []struct {
		name, prefix, pattern string
		// maxAlloc bounds the bytes allocated, in multiples of the
		// limit. encoding/xml's buffer doubles up to the limit and
		// text becomes a string: about 3 times the limit (5 with
		// -race). Tiny elements cost an Element (about 100 bytes) per
		// 4 input bytes.
		maxAlloc uint64
	}{
		{"text without <", `<message><body>`, "a", 8},
		{"text with entities", `<message><body>`, "&amp;é", 8},
		{"attribute value", `<message to='`, "b", 8},
		{"tag name", `<message`, "m", 8},
		{"attribute name", `<message `, "x", 8},
		{"whitespace", ``, " \n", 8},
		{"comment", `<!--`, "c", 8},
		{"DOCTYPE", `<!DOCTYPE `, "d", 8},
		{"CDATA", `<message><![CDATA[`, "e", 8},
		{"processing instruction", `<?pi `, "f", 8},
		{"endless children", `<message>`, "<b/>", 64},
		{"endless nesting of closed elements", `<message>`, "<a><b/></a>", 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &endless{pattern: []byte(tt.pattern)}
			d := xmlstream.NewDecoder(io.MultiReader(strings.NewReader(header+tt.prefix), src), xmlstream.Options{})
			if _, err := d.ReadHeader(); err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := d.Next()
			runtime.ReadMemStats(&after)
			if !errors.Is(err, xmlstream.ErrTooLarge) {
				t.Fatalf("Next = %v, want ErrTooLarge", err)
			}
			if src.n > xmlstream.DefaultMaxElementSize+64<<10 {
				t.Errorf("read %d bytes for a %d-byte limit", src.n, xmlstream.DefaultMaxElementSize)
			}
			t.Logf("read %d bytes, allocated %d bytes", src.n, after.TotalAlloc-before.TotalAlloc)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > tt.maxAlloc*xmlstream.DefaultMaxElementSize {
				t.Errorf("allocated %d bytes for a %d-byte limit", alloc, xmlstream.DefaultMaxElementSize)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader(header+"<presence/><mess"), iotest.ErrReader(boom))
	d := xmlstream.NewDecoder(r, xmlstream.Options{})
	if _, err := d.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Next(); err != nil {
		t.Fatal(err)
	}
	_, err := d.Next()
	if !errors.Is(err, boom) {
		t.Fatalf("Next = %v, want it to wrap %v", err, boom)
	}
	var xe *xmlstream.Error
	if errors.As(err, &xe) {
		t.Errorf("a read error is reported as XML error %v", xe)
	}
	if _, again := d.Next(); again != err {
		t.Errorf("Next after error = %v, want %v", again, err)
	}
}

func TestOneByteReads(t *testing.T) {
	in := header + "<message><body>a&amp;b</body></message> <presence/></stream:stream>"
	d := xmlstream.NewDecoder(iotest.OneByteReader(iotest.DataErrReader(strings.NewReader(in))), xmlstream.Options{})
	if _, err := d.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	els, err := readAll(d)
	if err != xmlstream.ErrStreamEnd || len(els) != 2 || els[0].ChildText(nsClient, "body") != "a&b" {
		t.Fatalf("got %v, %v", els, err)
	}
}

// TestByteReaderNoReadAhead checks that with an io.ByteReader the decoder
// stops at the end of the element, so a stream restart can reuse the reader.
func TestByteReaderNoReadAhead(t *testing.T) {
	const rest = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='2'>"
	br := bufio.NewReader(strings.NewReader(header + "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>" + rest))
	d := xmlstream.NewDecoder(br, xmlstream.Options{})
	if _, err := d.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	e, err := d.Next()
	if err != nil || !e.Is("urn:ietf:params:xml:ns:xmpp-sasl", "success") {
		t.Fatalf("Next = %v, %v", e, err)
	}
	if br.Buffered() != len(rest) {
		t.Fatalf("%d bytes left in the reader, want %d", br.Buffered(), len(rest))
	}
	d = xmlstream.NewDecoder(br, xmlstream.Options{})
	h, err := d.ReadHeader()
	if err != nil || h.ID != "2" {
		t.Fatalf("restarted stream header = %+v, %v", h, err)
	}
}

func TestNextWithoutHeader(t *testing.T) {
	d := xmlstream.NewDecoder(strings.NewReader(`<?xml version='1.0'?> <open xmlns='urn:ietf:params:xml:ns:xmpp-framing' version='1.0'/> <b/>`), xmlstream.Options{})
	e, err := d.Next()
	if err != nil || !e.Is("urn:ietf:params:xml:ns:xmpp-framing", "open") {
		t.Fatalf("Next = %v, %v", e, err)
	}
	e, err = d.Next()
	if err != nil || !e.Is("", "b") {
		t.Fatalf("Next = %v, %v", e, err)
	}
	if _, err := d.Next(); err != io.EOF {
		t.Fatalf("Next = %v, want io.EOF", err)
	}
	if _, err := d.ReadHeader(); err != io.EOF {
		t.Fatalf("ReadHeader after EOF = %v, want io.EOF", err)
	}

	d = xmlstream.NewDecoder(strings.NewReader(`</stream:stream>`), xmlstream.Options{})
	if _, err := d.Next(); !errors.Is(err, xmlstream.ErrNotWellFormed) {
		t.Fatalf("end tag without a stream: %v", err)
	}
}

func TestReadHeaderTwice(t *testing.T) {
	d := stream(t, "<presence/>", xmlstream.Options{})
	if _, err := d.ReadHeader(); err == nil {
		t.Fatal("second ReadHeader succeeded")
	}
	// A usage error does not kill the decoder.
	if e, err := d.Next(); err != nil || !e.Is(nsClient, "presence") {
		t.Fatalf("Next = %v, %v", e, err)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *xmlstream.Element
		err  error
	}{
		{"element", `<presence/>`, el("", "presence", nil, ""), nil},
		{"declaration and whitespace", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<presence xmlns='jabber:client'/>\n", el(nsClient, "presence", nil, ""), nil},
		{"empty", ``, nil, xmlstream.ErrNotWellFormed},
		{"whitespace only", ` `, nil, xmlstream.ErrNotWellFormed},
		{"two elements", `<a/><b/>`, nil, xmlstream.ErrNotWellFormed},
		{"end tag after", `<a/></a>`, nil, xmlstream.ErrNotWellFormed},
		{"text after", `<a/>x`, nil, xmlstream.ErrNotWellFormed},
		{"comment after", `<a/><!-- x -->`, nil, xmlstream.ErrRestrictedXML},
		{"truncated", `<a><b>`, nil, io.ErrUnexpectedEOF},
		{"DOCTYPE", `<!DOCTYPE a><a/>`, nil, xmlstream.ErrRestrictedXML},
		{"billion laughs", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><lolz>&lol2;</lolz>`, nil, xmlstream.ErrRestrictedXML},
		{"undefined entity", `<a>&lol;</a>`, nil, xmlstream.ErrNotWellFormed},
		{"too large", `<a>` + strings.Repeat("x", xmlstream.DefaultMaxElementSize) + `</a>`, nil, xmlstream.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := xmlstream.Parse([]byte(tt.in))
			if !errors.Is(err, tt.err) || (tt.err != nil) != (err != nil) {
				t.Fatalf("Parse error = %v, want %v", err, tt.err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestParseMarshal checks the intended use of Parse: turning the output of
// xml.Marshal into an Element.
func TestParseMarshal(t *testing.T) {
	type item struct {
		JID  string `xml:"jid,attr"`
		Name string `xml:"name,attr,omitempty"`
	}
	type query struct {
		XMLName xml.Name `xml:"jabber:iq:roster query"`
		Ver     string   `xml:"ver,attr"`
		Items   []item   `xml:"item"`
	}
	b, err := xml.Marshal(query{Ver: "v1", Items: []item{{JID: "a@b", Name: "A & B"}, {JID: "c@d"}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := xmlstream.Parse(b)
	if err != nil {
		t.Fatalf("Parse(%s): %v", b, err)
	}
	want := el("jabber:iq:roster", "query", attrs(attr("", "ver", "v1")), "",
		el("jabber:iq:roster", "item", attrs(attr("", "jid", "a@b"), attr("", "name", "A & B")), ""),
		el("jabber:iq:roster", "item", attrs(attr("", "jid", "c@d")), ""))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse(%s) = %v, want %v", b, got, want)
	}
}
