package xmlstream_test

import (
	"encoding/xml"
	"io"
	"reflect"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

type tokBody struct {
	Lang string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	Text string `xml:",chardata"`
}

type tokMessage struct {
	XMLName  xml.Name  `xml:"jabber:client message"`
	To       string    `xml:"to,attr"`
	Type     string    `xml:"type,attr"`
	Lang     string    `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	Hint     string    `xml:"urn:hints hint,attr"`
	Bodies   []tokBody `xml:"jabber:client body"`
	Foreign  []tokBody `xml:"urn:other body"`
	OriginID struct {
		ID string `xml:"id,attr"`
	} `xml:"urn:xmpp:sid:0 origin-id"`
	Request *struct{} `xml:"urn:xmpp:receipts request"`
	Missing *struct{} `xml:"urn:xmpp:chat-markers:0 markable"`
	Delay   struct {
		Stamp string `xml:"stamp,attr"`
		From  string `xml:"from,attr"`
	} `xml:"urn:xmpp:delay delay"`
}

func TestTokenReaderDecode(t *testing.T) {
	d := stream(t, `<message to='romeo@example.net' type='chat' xml:lang='en' xmlns:h='urn:hints' h:hint='store'>`+
		`<body>Hello &amp; welcome</body><body xml:lang='de'>Hallo</body>`+
		`<o:body xmlns:o='urn:other'>not a jabber:client body</o:body>`+
		`<origin-id xmlns='urn:xmpp:sid:0' id='de305d54'/><request xmlns='urn:xmpp:receipts'/>`+
		`<d:delay xmlns:d='urn:xmpp:delay' stamp='2002-09-10T23:08:25Z' from='capulet.com'>Offline</d:delay></message>`,
		xmlstream.Options{})
	e, err := d.Next()
	if err != nil {
		t.Fatal(err)
	}
	var m tokMessage
	if err := xml.NewTokenDecoder(e.TokenReader()).Decode(&m); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	want := tokMessage{
		XMLName: xml.Name{Space: nsClient, Local: "message"},
		To:      "romeo@example.net",
		Type:    "chat",
		Lang:    "en",
		Hint:    "store",
		Bodies:  []tokBody{{Text: "Hello & welcome"}, {Lang: "de", Text: "Hallo"}},
		Foreign: []tokBody{{Text: "not a jabber:client body"}},
		Request: &struct{}{},
	}
	want.OriginID.ID = "de305d54"
	want.Delay.Stamp = "2002-09-10T23:08:25Z"
	want.Delay.From = "capulet.com"
	if !reflect.DeepEqual(m, want) {
		t.Errorf("decoded\n%+v\nwant\n%+v", m, want)
	}

	// A namespace mismatch is reported by encoding/xml.
	var wrong struct {
		XMLName xml.Name `xml:"jabber:server message"`
	}
	if err := xml.NewTokenDecoder(e.TokenReader()).Decode(&wrong); err == nil {
		t.Error("decoding a jabber:client message as jabber:server succeeded")
	}
}

func TestTokenReaderTokens(t *testing.T) {
	e := xmlstream.New("urn:a", "a", "x", "1").SetText("t").Append(
		xmlstream.New("urn:b", "b"),
		nil,
		xmlstream.New("urn:a", "c").Append(xmlstream.New("urn:a", "d").SetText("u")),
	)
	want := []xml.Token{
		xml.StartElement{Name: xml.Name{Space: "urn:a", Local: "a"}, Attr: []xml.Attr{attr("", "x", "1")}},
		xml.CharData("t"),
		xml.StartElement{Name: xml.Name{Space: "urn:b", Local: "b"}},
		xml.EndElement{Name: xml.Name{Space: "urn:b", Local: "b"}},
		xml.StartElement{Name: xml.Name{Space: "urn:a", Local: "c"}},
		xml.StartElement{Name: xml.Name{Space: "urn:a", Local: "d"}},
		xml.CharData("u"),
		xml.EndElement{Name: xml.Name{Space: "urn:a", Local: "d"}},
		xml.EndElement{Name: xml.Name{Space: "urn:a", Local: "c"}},
		xml.EndElement{Name: xml.Name{Space: "urn:a", Local: "a"}},
	}
	r := e.TokenReader()
	var got []xml.Token
	for {
		tok, err := r.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, tok)
		if start, ok := tok.(xml.StartElement); ok && len(start.Attr) > 0 {
			start.Attr[0].Value = "changed" // must not reach e
		}
	}
	// got[0]'s attribute was changed through the token above.
	got[0] = xml.StartElement{Name: xml.Name{Space: "urn:a", Local: "a"}, Attr: []xml.Attr{attr("", "x", "1")}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tokens\n%v\nwant\n%v", got, want)
	}
	if e.Get("x") != "1" {
		t.Errorf("changing a token's attribute changed the element: x=%q", e.Get("x"))
	}
	if tok, err := r.Token(); tok != nil || err != io.EOF {
		t.Errorf("Token after the end = %v, %v; want io.EOF", tok, err)
	}

	var nilEl *xmlstream.Element
	if tok, err := nilEl.TokenReader().Token(); tok != nil || err != io.EOF {
		t.Errorf("nil element Token = %v, %v; want io.EOF", tok, err)
	}
}
