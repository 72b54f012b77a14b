package client_test

import (
	"testing"
)

// TestCarbonHints: a genuine carbon (from our own bare JID) is taken into
// the timeline, unless its message asked that other devices get no copy
// (XEP-0280 §7 <private/>, XEP-0334 <no-copy/>): then the server should
// not have copied it, and we do not take it.
func TestCarbonHints(t *testing.T) {
	l := newMTLocal(t)
	carbon := func(id, body, extra string) string {
		return `<message from='alice@example.org' to='alice@example.org/desk' type='chat'>
			<received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>
			<message xmlns='jabber:client' from='bob@example.org/phone' to='alice@example.org/phone' type='chat' id='` + id + `'><body>` + body + `</body>` + extra + `</message>
			</forwarded></received></message>`
	}
	if !l.route(carbon("c1", "copied", "")) {
		t.Fatal("a genuine carbon was not handled")
	}
	before := l.snapshot()
	for _, hint := range []string{
		`<private xmlns='urn:xmpp:carbons:2'/>`,
		`<no-copy xmlns='urn:xmpp:hints'/>`,
	} {
		if !l.route(carbon("c2", "not for other devices", hint)) {
			t.Fatalf("carbon with %s: not handled (it would reach other handlers)", hint)
		}
		if after := l.snapshot(); after != before {
			t.Fatalf("carbon with %s changed the store:\n%s\nafter:\n%s", hint, before, after)
		}
	}
	tl := l.timeline("bob@example.org")
	if len(tl) != 1 || tl[0].Body != "copied" {
		t.Fatalf("timeline %+v, want only the genuine copy", tl)
	}
}
