package message_test

import (
	"encoding/xml"
	"errors"
	"maps"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/message"
	"github.com/tern-im/tern/protocol/stanza"
)

func mustParse(t testing.TB, s string) *xmlstream.Element {
	t.Helper()
	e, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return e
}

// xmlLang returns an xml:lang attribute.
func xmlLang(lang string) xml.Attr {
	return xml.Attr{Name: xml.Name{Space: xmlstream.NSXML, Local: "lang"}, Value: lang}
}

// equal compares two messages, the error by value and the extensions by
// their XML.
func equal(a, b message.Message) bool {
	if a.From != b.From || a.To != b.To || a.ID != b.ID || a.Type != b.Type || a.Lang != b.Lang ||
		!maps.Equal(a.Bodies, b.Bodies) || !maps.Equal(a.Subjects, b.Subjects) || a.Thread != b.Thread ||
		(a.Error == nil) != (b.Error == nil) || len(a.Extensions) != len(b.Extensions) {
		return false
	}
	if a.Error != nil {
		ea, eb := *a.Error, *b.Error
		if (ea.App == nil) != (eb.App == nil) || ea.App != nil && ea.App.String() != eb.App.String() {
			return false
		}
		ea.App, eb.App = nil, nil
		// stanza.Error.Element drops an empty <text/>, and with it the
		// language of that empty text.
		if ea.Text == "" {
			ea.Lang = ""
		}
		if eb.Text == "" {
			eb.Lang = ""
		}
		if ea != eb {
			return false
		}
	}
	for i := range a.Extensions {
		if a.Extensions[i].String() != b.Extensions[i].String() {
			return false
		}
	}
	return true
}

func TestParse(t *testing.T) {
	juliet := jid.MustParse("juliet@example.com/balcony")
	romeo := jid.MustParse("romeo@example.net")
	tests := []struct {
		name       string
		xml        string
		streamLang string
		want       message.Message
	}{
		{
			name: "RFC 6121 §5.2.3: body alternatives",
			xml: `<message from='juliet@example.com/balcony' id='b4vs9km4' to='romeo@example.net' type='chat' xml:lang='en' xmlns='jabber:client'>
  <body>Wherefore art thou, Romeo?</body>
  <body xml:lang='de'>Wo bist du, Romeo?</body>
</message>`,
			want: message.Message{From: juliet, To: romeo, ID: "b4vs9km4", Type: "chat", Lang: "en",
				Bodies: map[string]string{"en": "Wherefore art thou, Romeo?", "de": "Wo bist du, Romeo?"}},
		},
		{
			name: "RFC 6121 §5.2.4: subject alternatives",
			xml: `<message from='juliet@example.com/balcony' id='c8xg3nf8' to='romeo@example.net' type='chat' xml:lang='en' xmlns='jabber:client'>
  <subject>I implore you!</subject>
  <subject xml:lang='cs'>&#x00DA;p&#x011B;nliv&#x011B; pros&#x00ED;m!</subject>
  <body>Wherefore art thou, Romeo?</body>
  <body xml:lang='cs'>Pro&#x010D;e&#x017E; jsi ty, Romeo?</body>
</message>`,
			want: message.Message{From: juliet, To: romeo, ID: "c8xg3nf8", Type: "chat", Lang: "en",
				Subjects: map[string]string{"en": "I implore you!", "cs": "Úpěnlivě prosím!"},
				Bodies:   map[string]string{"en": "Wherefore art thou, Romeo?", "cs": "Pro\u010de\u017e jsi ty, Romeo?"}},
		},
		{
			name: "RFC 6121 §5.2.5: thread with parent",
			xml: `<message from='juliet@example.com/balcony' to='romeo@example.net' type='chat' xml:lang='en' xmlns='jabber:client'>
  <body>Art thou not Romeo, and a Montague?</body>
  <thread parent='e0ffe42b28561960c6b12b944a092794b9683a38'>0e3141cd80894871a68e6fe6b1ec56fa</thread>
</message>`,
			want: message.Message{From: juliet, To: romeo, Type: "chat", Lang: "en",
				Bodies: map[string]string{"en": "Art thou not Romeo, and a Montague?"},
				Thread: message.Thread{ID: "0e3141cd80894871a68e6fe6b1ec56fa", Parent: "e0ffe42b28561960c6b12b944a092794b9683a38"}},
		},
		{
			name:       "stream language is the default; no type means normal",
			xml:        `<message xmlns='jabber:client'><body>hi</body><body xml:lang='fr'>salut</body></message>`,
			streamLang: "en",
			want:       message.Message{Type: "normal", Lang: "en", Bodies: map[string]string{"en": "hi", "fr": "salut"}},
		},
		{
			name: "no language anywhere",
			xml:  `<message xmlns='jabber:client' type='headline'><body>news</body></message>`,
			want: message.Message{Type: "headline", Bodies: map[string]string{"": "news"}},
		},
		{
			name: "RFC 6121 §5.2.2: an unknown type is normal",
			xml:  `<message xmlns='jabber:client' type='shout'><body>HI</body></message>`,
			want: message.Message{Type: "normal", Bodies: map[string]string{"": "HI"}},
		},
		{
			name: "a repeated language keeps the first body; xml:lang='' inherits",
			xml:  `<message xmlns='jabber:client' xml:lang='de'><body>eins</body><body xml:lang='DE'>zwei</body><body xml:lang=''>drei</body></message>`,
			want: message.Message{Type: "normal", Lang: "de", Bodies: map[string]string{"de": "eins"}},
		},
		{
			name: "extensions are kept in order; only the first thread counts",
			xml: `<message xmlns='jabber:client' id='m1' type='chat'><body>x</body><request xmlns='urn:xmpp:receipts'/>` +
				`<thread>t1</thread><thread>t2</thread><active xmlns='http://jabber.org/protocol/chatstates'/></message>`,
			want: message.Message{ID: "m1", Type: "chat", Bodies: map[string]string{"": "x"}, Thread: message.Thread{ID: "t1"},
				Extensions: []*xmlstream.Element{
					xmlstream.New("urn:xmpp:receipts", "request"),
					xmlstream.New("http://jabber.org/protocol/chatstates", "active"),
				}},
		},
		{
			name: "groupchat subject change with an empty subject",
			xml:  `<message xmlns='jabber:client' from='coven@chat.shakespeare.lit/secondwitch' type='groupchat'><subject/></message>`,
			want: message.Message{From: jid.MustParse("coven@chat.shakespeare.lit/secondwitch"), Type: "groupchat", Subjects: map[string]string{"": ""}},
		},
		{
			name: "error message",
			xml: `<message xmlns='jabber:client' from='romeo@example.net' id='x1' type='error'><body>lost</body>` +
				`<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`,
			want: message.Message{From: romeo, ID: "x1", Type: "error", Bodies: map[string]string{"": "lost"},
				Error: &stanza.Error{Type: "cancel", Condition: stanza.CondServiceUnavailable}},
		},
		{
			name: "jabber:server stanza",
			xml:  `<message xmlns='jabber:server' type='chat'><body>s2s</body></message>`,
			want: message.Message{Type: "chat", Bodies: map[string]string{"": "s2s"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := message.Parse(mustParse(t, tt.xml), tt.streamLang)
			if err != nil {
				t.Fatal(err)
			}
			if !equal(got, tt.want) {
				t.Fatalf("Parse =\n%+v\nwant\n%+v", got, tt.want)
			}
			// Parse → Element → Parse gives the same message.
			b := got.Element().String()
			back, err := message.Parse(mustParse(t, b), tt.streamLang)
			if err != nil || !equal(back, got) {
				t.Fatalf("round trip through %s = %+v, %v", b, back, err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, x := range []string{
		`<presence xmlns='jabber:client'/>`,
		`<message xmlns='urn:example'/>`,
		`<message xmlns='jabber:client' from='@example.com'/>`,
	} {
		if _, err := message.Parse(mustParse(t, x), ""); !errors.Is(err, message.ErrMalformed) {
			t.Errorf("Parse(%s) = %v, want ErrMalformed", x, err)
		}
	}
}

func TestParseLimitsAlternatives(t *testing.T) {
	msg := xmlstream.New("jabber:client", "message")
	for i := range message.MaxAlternatives + 10 {
		b := xmlstream.New("jabber:client", "body").SetText("x")
		b.Attr = append(b.Attr, xmlLang(string(rune('a'+i/26))+string(rune('a'+i%26))))
		msg.Append(b)
	}
	m, err := message.Parse(mustParse(t, msg.String()), "")
	if err != nil || len(m.Bodies) != message.MaxAlternatives {
		t.Fatalf("Parse kept %d bodies, %v; want %d", len(m.Bodies), err, message.MaxAlternatives)
	}
}

func TestElement(t *testing.T) {
	m := message.Message{
		To:       jid.MustParse("romeo@example.net"),
		ID:       "b4vs9km4",
		Type:     message.TypeChat,
		Lang:     "en",
		Bodies:   map[string]string{"de": "Wo bist du, Romeo?", "en": "Wherefore art thou, Romeo?", "cs": "Kde jsi?"},
		Thread:   message.Thread{ID: "t"},
		Subjects: map[string]string{"en": "S"},
	}
	want := `<message xmlns='jabber:client' to='romeo@example.net' id='b4vs9km4' type='chat' xml:lang='en'>` +
		`<subject>S</subject>` +
		`<body>Wherefore art thou, Romeo?</body><body xml:lang='cs'>Kde jsi?</body><body xml:lang='de'>Wo bist du, Romeo?</body>` +
		`<thread>t</thread></message>`
	if got := m.Element().String(); got != want {
		t.Errorf("Element =\n%s\nwant\n%s", got, want)
	}
	// A normal message without language or id is minimal.
	if got := (message.Message{Type: message.TypeNormal, Bodies: map[string]string{"": "hi"}}).Element().String(); got != `<message xmlns='jabber:client'><body>hi</body></message>` {
		t.Errorf("Element = %s", got)
	}
}

func TestPick(t *testing.T) {
	alts := map[string]string{"en": "hello", "de": "hallo", "de-AT": "servus", "pt-BR": "olá", "zh-Hant": "你好"}
	tests := []struct {
		name  string
		alts  map[string]string
		def   string
		prefs []string
		want  string
	}{
		{"exact", alts, "en", []string{"de"}, "hallo"},
		{"case-insensitive", alts, "en", []string{"DE-at"}, "servus"},
		{"lookup truncates", alts, "en", []string{"de-CH-1996"}, "hallo"},
		{"POSIX locale", alts, "en", []string{"de_AT.UTF-8"}, "servus"},
		{"more specific alternative", alts, "en", []string{"pt"}, "olá"},
		{"private-use truncation", alts, "en", []string{"zh-Hant-x-tw"}, "你好"},
		{"first preference wins over a later exact match", alts, "en", []string{"de-CH", "en"}, "hallo"},
		{"later preference used when earlier fails", alts, "en", []string{"fr", "pt-PT"}, "olá"},
		{"default language when nothing matches", alts, "en", []string{"fr"}, "hello"},
		{"no preferences", alts, "de", nil, "hallo"},
		{"undeclared language next", map[string]string{"": "plain", "fr": "bonjour"}, "en", []string{"ja"}, "plain"},
		{"else the first tag in byte order", map[string]string{"fr": "bonjour", "es": "hola"}, "en", []string{"ja"}, "hola"},
		{"empty", nil, "en", []string{"en"}, ""},
	}
	for _, tt := range tests {
		if got := message.Pick(tt.alts, tt.def, tt.prefs); got != tt.want {
			t.Errorf("%s: Pick(%v, %q, %q) = %q, want %q", tt.name, tt.alts, tt.def, tt.prefs, got, tt.want)
		}
	}
	m := message.Message{Lang: "en", Bodies: map[string]string{"en": "b-en", "de": "b-de"}, Subjects: map[string]string{"en": "s-en", "de": "s-de"}}
	if got := m.Body([]string{"de"}); got != "b-de" {
		t.Errorf("Body = %q", got)
	}
	if got := m.Subject([]string{"it"}); got != "s-en" {
		t.Errorf("Subject = %q", got)
	}
}

func TestMe(t *testing.T) {
	// XEP-0245 §2 examples.
	if !message.IsMe("/me shrugs in disgust") || message.MeText("/me shrugs in disgust") != "shrugs in disgust" {
		t.Error("/me shrugs in disgust is a /me command")
	}
	for _, body := range []string{
		"/meshrugs in disgust",
		"/me's disgusted",
		" /me shrugs in disgust",
		`"/me shrugs in disgust"`,
		"* Atlas shrugs in disgust",
		`Why did Atlas say "/me shrugs in disgust"?`,
		"/me",
	} {
		if message.IsMe(body) {
			t.Errorf("IsMe(%q) = true", body)
		}
		if got := message.MeText(body); got != body {
			t.Errorf("MeText(%q) = %q, want it unchanged", body, got)
		}
	}
}
