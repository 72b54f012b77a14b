package xmlstream_test

import (
	"encoding/xml"
	"reflect"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

func TestElementHelpers(t *testing.T) {
	e, err := xmlstream.Parse([]byte(`<message xmlns='jabber:client' to='romeo@example.net' xml:lang='en' xmlns:p='urn:p' p:to='other'>` +
		`<body>hi</body><request xmlns='urn:xmpp:receipts'/><x xmlns='urn:xmpp:receipts'/></message>`))
	if err != nil {
		t.Fatal(err)
	}
	if !e.Is(nsClient, "message") || e.Is("", "message") || e.Is(nsClient, "presence") {
		t.Error("Is")
	}
	if v, ok := e.Lookup("to"); !ok || v != "romeo@example.net" || e.Get("to") != "romeo@example.net" {
		t.Errorf("Lookup(to) = %q, %v; the namespaced p:to must not count", v, ok)
	}
	if _, ok := e.Lookup("from"); ok || e.Get("from") != "" {
		t.Error("Lookup of a missing attribute")
	}
	if e.Lang() != "en" {
		t.Errorf("Lang = %q", e.Lang())
	}
	if (&xmlstream.Element{Attr: []xml.Attr{attr("xml", "lang", "de")}}).Lang() != "de" {
		t.Error(`Lang with the "xml" prefix as namespace`)
	}
	if e.ChildText(nsClient, "body") != "hi" || e.ChildText(nsClient, "subject") != "" {
		t.Error("ChildText")
	}
	if c := e.Child("urn:xmpp:receipts", "x"); c == nil || c.Name.Local != "x" {
		t.Error("Child")
	}
	if c := e.ChildNS("urn:xmpp:receipts"); c == nil || c.Name.Local != "request" {
		t.Error("ChildNS returns the first child in the namespace")
	}
	if e.ChildNS("urn:none") != nil || e.Child(nsClient, "none") != nil {
		t.Error("missing children")
	}

	c := e.Copy()
	if !reflect.DeepEqual(c, e) {
		t.Fatal("Copy differs")
	}
	c.Set("to", "juliet@example.com").Set("type", "chat").Set("to", "")
	c.Children[0].SetText("changed")
	c.Append(xmlstream.New("urn:x", "new"))
	if e.Get("to") != "romeo@example.net" || e.Get("type") != "" || e.ChildText(nsClient, "body") != "hi" || len(e.Children) != 3 {
		t.Error("changing the copy changed the original")
	}
	if _, ok := c.Lookup("to"); ok || c.Get("type") != "chat" || len(c.Children) != 4 {
		t.Errorf("Set/Append on the copy: %v", c)
	}

	var nilEl *xmlstream.Element
	if nilEl.Is("", "") || nilEl.Get("a") != "" || nilEl.Lang() != "" || nilEl.Child("", "a") != nil ||
		nilEl.ChildNS("") != nil || nilEl.ChildText("", "a") != "" || nilEl.Copy() != nil {
		t.Error("nil receivers")
	}
	if n := xmlstream.New("urn:a", "a", "k", "v", "odd"); len(n.Attr) != 1 || n.Get("k") != "v" {
		t.Errorf("New with an odd attribute list: %v", n.Attr)
	}
}
