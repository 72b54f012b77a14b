package stanza_test

import (
	"errors"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/stanza"
)

// FuzzParse feeds arbitrary elements to ParseHeader, ParseError, Result and
// ErrorReply. None may panic; stanza errors must survive Element → encode →
// parse, and an error reply must parse back to the error it carries.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := xmlstream.Parse(data)
		if err != nil {
			return
		}
		h, herr := stanza.ParseHeader(el)
		if herr == nil && h.Name != el.Name.Local {
			t.Fatalf("Header.Name = %q for <%s>", h.Name, el.Name.Local)
		}
		se := stanza.ParseError(el)
		if (se != nil) != (el.Get("type") == "error") {
			t.Fatalf("ParseError(%s) = %v", el, se)
		}
		if se != nil {
			if se.Error() == "" || se.Type == "" || se.Condition == "" {
				t.Fatalf("ParseError(%s) = %#v", el, se)
			}
			b := xmlstream.Append(nil, xmlstream.New(stanza.NSClient, "iq", "type", "error").Append(se.Element()), "")
			back, err := xmlstream.Parse(b)
			if err != nil {
				t.Fatalf("our own error does not parse: %s: %v", b, err)
			}
			again := stanza.ParseError(back)
			app, againApp := se.App, again.App
			se.App, again.App = nil, nil
			if *again != *se || (app == nil) != (againApp == nil) {
				t.Fatalf("round trip: %#v -> %s -> %#v", se, b, again)
			}
		}

		res := stanza.Result(el, nil)
		if res.Get("type") != "result" || res.Get("id") != el.Get("id") || res.Get("to") != el.Get("from") {
			t.Fatalf("Result(%s) = %s", el, res)
		}
		reply := stanza.ErrorReply(el, &stanza.Error{Condition: stanza.CondNotAcceptable, Text: el.Text})
		if reply == nil {
			if herr == nil && el.Get("type") != "error" {
				t.Fatalf("no error reply to %s", el)
			}
			return
		}
		b := xmlstream.Append(nil, reply, "")
		back, err := xmlstream.Parse(b)
		if err != nil {
			t.Fatalf("our own error reply does not parse: %s: %v", b, err)
		}
		if got := stanza.ParseError(back); !errors.Is(got, stanza.ErrNotAcceptable) || got.Type != "modify" {
			t.Fatalf("error reply %s parses as %#v", b, got)
		}
	})
}
