package reply_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/reply"
)

func mustParse(t testing.TB, s string) *xmlstream.Element {
	t.Helper()
	e, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return e
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		xml  string
		want reply.Reply
		err  error
	}{
		{
			name: "XEP-0461 example 3: Max replies to Anna",
			xml: `<message xmlns='jabber:client' to='anna@example.com' id='message-id2' type='chat'>
  <body>Great idea!</body>
  <reply to='anna@example.com/tablet' id='message-id1' xmlns='urn:xmpp:reply:0' />
</message>`,
			want: reply.Reply{To: jid.MustParse("anna@example.com/tablet"), ID: "message-id1"},
		},
		{
			name: "no 'to' (only recommended)",
			xml:  `<message xmlns='jabber:client'><reply id='x' xmlns='urn:xmpp:reply:0'/></message>`,
			want: reply.Reply{ID: "x"},
		},
		{
			name: "invalid 'to' dropped",
			xml:  `<message xmlns='jabber:client'><reply to='@' id='x' xmlns='urn:xmpp:reply:0'/></message>`,
			want: reply.Reply{ID: "x"},
		},
		{name: "no id", xml: `<message xmlns='jabber:client'><reply to='a@b' xmlns='urn:xmpp:reply:0'/></message>`, err: reply.ErrMalformed},
		{name: "long id", xml: `<message xmlns='jabber:client'><reply id='` + strings.Repeat("x", reply.MaxID+1) + `' xmlns='urn:xmpp:reply:0'/></message>`, err: reply.ErrMalformed},
		{name: "not a reply", xml: `<message xmlns='jabber:client'><body>hi</body></message>`, err: reply.ErrNotFound},
		{name: "error message", xml: `<message xmlns='jabber:client' type='error'><reply id='x' xmlns='urn:xmpp:reply:0'/></message>`, err: reply.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := reply.Parse(mustParse(t, tt.xml))
			if got != tt.want || !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("Parse = %+v, %v; want %+v, %v", got, err, tt.want, tt.err)
			}
			if err != nil {
				return
			}
			msg := xmlstream.New("jabber:client", "message").Append(got.Element())
			if back, err := reply.Parse(mustParse(t, msg.String())); back != got || err != nil {
				t.Fatalf("round trip = %+v, %v", back, err)
			}
		})
	}
}

// xep0461Example4 is XEP-0461 example 4 with the body as the example's
// note asks: without the indentation and the leading and trailing line
// breaks.
const xep0461Example4 = "<message xmlns='jabber:client' to='anna@example.com' id='message-id3' type='chat'>" +
	"<body>> Anna wrote:\n> We should bake a cake\nGreat idea!</body>" +
	"<reply to='anna@example.com/laptop' id='message-id1' xmlns='urn:xmpp:reply:0' />" +
	"<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start=\"0\" end=\"38\" /></fallback>" +
	"</message>"

func TestStripFallbackXEPExample(t *testing.T) {
	msg := mustParse(t, xep0461Example4)
	body := msg.ChildText("jabber:client", "body")
	if got := reply.StripFallback(msg, body); got != "Great idea!" {
		t.Errorf("StripFallback = %q", got)
	}
	// Our builder produces exactly the example's body and offsets.
	gotBody, fb := reply.Fallback("Anna wrote:\nWe should bake a cake", "Great idea!")
	if gotBody != body {
		t.Errorf("Fallback body = %q, want %q", gotBody, body)
	}
	if want := `<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='38'/></fallback>`; fb.String() != want {
		t.Errorf("Fallback element = %s, want %s", fb, want)
	}
}

func TestStripFallback(t *testing.T) {
	fallback := func(regions string) string {
		return `<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'>` + regions + `</fallback>`
	}
	tests := []struct {
		name  string
		extra string // fallback elements
		body  string
		want  string
	}{
		{"code points, not bytes", fallback(`<body start='0' end='8'/>`), "> Grüß\n\nHallo", "Hallo"},
		{"astral characters count once", fallback(`<body start='0' end='4'/>`), "> 👋\nhi", "hi"},
		{"end beyond the body is clamped", fallback(`<body start='3' end='999999999999999999999999'/>`), "keep this", "kee"},
		{"start beyond the body removes nothing", fallback(`<body start='50' end='60'/>`), "keep", "keep"},
		{"start after end is ignored", fallback(`<body start='5' end='2'/>`), "keep this", "keep this"},
		{"negative offsets are ignored", fallback(`<body start='-1' end='2'/>`), "keep", "keep"},
		{"non-numeric offsets are ignored", fallback(`<body start='0' end='two'/>`), "keep", "keep"},
		{"only one offset is ignored", fallback(`<body start='1'/>`), "keep", "keep"},
		{"no offsets: the whole body", fallback(`<body/>`), "all fallback", ""},
		{"no regions: the whole body", fallback(``), "all fallback", ""},
		{"subject only: body untouched", fallback(`<subject/>`), "keep", "keep"},
		{"overlapping and several ranges", fallback(`<body start='0' end='3'/><body start='2' end='5'/><body start='7' end='8'/>`), "0123456789", "5689"},
		{"fallback for another spec is ignored", `<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/>`, "keep", "keep"},
		{"no fallback", ``, "keep", "keep"},
		{"empty body", fallback(`<body start='0' end='3'/>`), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := mustParse(t, `<message xmlns='jabber:client'><reply id='x' xmlns='urn:xmpp:reply:0'/>`+tt.extra+`</message>`)
			if got := reply.StripFallback(msg, tt.body); got != tt.want {
				t.Fatalf("StripFallback(%q) = %q, want %q", tt.body, got, tt.want)
			}
		})
	}
	if got := reply.StripFallback(nil, "x"); got != "x" {
		t.Errorf("StripFallback(nil) = %q", got)
	}
}

func TestFallbackRangesLimit(t *testing.T) {
	var regions strings.Builder
	for range reply.MaxRanges + 5 {
		regions.WriteString(`<body start='0' end='1'/>`)
	}
	msg := mustParse(t, `<message xmlns='jabber:client'><fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'>`+regions.String()+`</fallback></message>`)
	got := reply.FallbackRanges(msg, 10)
	if len(got) != reply.MaxRanges || !slices.Equal(got[:1], []reply.Range{{0, 1}}) {
		t.Errorf("FallbackRanges = %v", got)
	}
}

func TestFallback(t *testing.T) {
	tests := []struct {
		quote, text, body string
		end               string
	}{
		{"a\nb\n", "c", "> a\n> b\nc", "8"},
		{"ünï", "ok", "> ünï\nok", "6"},
	}
	for _, tt := range tests {
		body, fb := reply.Fallback(tt.quote, tt.text)
		if body != tt.body || fb.Child(reply.NSFallback, "body").Get("end") != tt.end {
			t.Errorf("Fallback(%q, %q) = %q, %s", tt.quote, tt.text, body, fb)
		}
		msg := xmlstream.New("jabber:client", "message").Append(fb)
		if got := reply.StripFallback(mustParse(t, msg.String()), body); got != tt.text {
			t.Errorf("stripping our own fallback = %q, want %q", got, tt.text)
		}
	}
	if body, fb := reply.Fallback("", "just text"); body != "just text" || fb != nil {
		t.Errorf("Fallback without quote = %q, %v", body, fb)
	}
}
