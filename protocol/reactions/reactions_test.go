package reactions_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/reactions"
)

func mustParse(t testing.TB, s string) *xmlstream.Element {
	t.Helper()
	e, err := xmlstream.Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return e
}

func TestXEPExamples(t *testing.T) {
	tests := []struct {
		name string
		xml  string
		want reactions.Reactions
	}{
		{
			name: "example 4: Juliet sends a 👋 reaction",
			xml: `<message xmlns='jabber:client' to='romeo@capulet.net/orchard' id='7fdd29fa-a57a-11e9-b04a-4889e7820c76' type='chat'>
  <reactions id='744f6e18-a57a-11e9-a656-4889e7820c76' xmlns='urn:xmpp:reactions:0'>
    <reaction>👋</reaction>
  </reactions>
  <store xmlns="urn:xmpp:hints"/>
</message>`,
			want: reactions.Reactions{ID: "744f6e18-a57a-11e9-a656-4889e7820c76", Emoji: []string{"👋"}},
		},
		{
			name: "example 5: Juliet adds a 🐢 reaction",
			xml: `<message xmlns='jabber:client' to='romeo@capulet.net/orchard' id='96d73204-a57a-11e9-88b8-4889e7820c76' type='chat'>
  <reactions id='744f6e18-a57a-11e9-a656-4889e7820c76' xmlns='urn:xmpp:reactions:0'>
    <reaction>👋</reaction>
    <reaction>🐢</reaction>
  </reactions>
  <store xmlns="urn:xmpp:hints"/>
</message>`,
			want: reactions.Reactions{ID: "744f6e18-a57a-11e9-a656-4889e7820c76", Emoji: []string{"👋", "🐢"}},
		},
		{
			name: "example 6: Juliet removes all reactions",
			xml: `<message xmlns='jabber:client' to='romeo@capulet.net/orchard' id='973c9d2e-a57a-11e9-af82-4889e7820c76' type='chat'>
  <reactions id='744f6e18-a57a-11e9-a656-4889e7820c76' xmlns='urn:xmpp:reactions:0'/>
  <store xmlns="urn:xmpp:hints"/>
</message>`,
			want: reactions.Reactions{ID: "744f6e18-a57a-11e9-a656-4889e7820c76"},
		},
		{
			name: "example 8: hearts",
			xml: `<message xmlns='jabber:client' from="juliet@capulet.net" to='romeo@legacy-love-network.capulet.net' id='will-be-rejected1' type='chat'>
  <reactions id='restricted-reactions-1' xmlns='urn:xmpp:reactions:0'>
    <reaction>💘</reaction>
    <reaction>💜</reaction>
  </reactions>
  <store xmlns="urn:xmpp:hints"/>
</message>`,
			want: reactions.Reactions{ID: "restricted-reactions-1", Emoji: []string{"💘", "💜"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := reactions.Parse(mustParse(t, tt.xml))
			if err != nil || got.ID != tt.want.ID || !slices.Equal(got.Emoji, tt.want.Emoji) {
				t.Fatalf("Parse = %+v, %v; want %+v", got, err, tt.want)
			}
			msg := reactions.Message(jid.MustParse("romeo@capulet.net/orchard"), "chat", "new", got)
			back, err := reactions.Parse(mustParse(t, msg.String()))
			if err != nil || back.ID != got.ID || !slices.Equal(back.Emoji, got.Emoji) {
				t.Fatalf("round trip through %s = %+v, %v", msg, back, err)
			}
			if msg.Child(reactions.NSHints, "store") == nil {
				t.Errorf("Message has no store hint: %s", msg)
			}
		})
	}
}

func TestParseRules(t *testing.T) {
	wrap := func(inner string) string {
		return `<message xmlns='jabber:client' type='chat'><reactions xmlns='urn:xmpp:reactions:0' id='m'>` + inner + `</reactions></message>`
	}
	tests := []struct {
		name string
		xml  string
		want []string
		err  error
	}{
		{"duplicates are ignored", wrap(`<reaction>👍</reaction><reaction>👍</reaction><reaction>❤️</reaction>`), []string{"👍", "❤️"}, nil},
		{"text is not a reaction", wrap(`<reaction>+1</reaction><reaction>lol</reaction><reaction>🎉</reaction>`), []string{"🎉"}, nil},
		{"two emoji in one reaction are dropped", wrap(`<reaction>👍👍</reaction><reaction>👍 🎉</reaction>`), nil, nil},
		{"whitespace is trimmed", wrap("<reaction>\n 👍\t</reaction>"), []string{"👍"}, nil},
		{"empty reactions dropped", wrap(`<reaction/><reaction> </reaction>`), nil, nil},
		{"other elements ignored", wrap(`<reaction xmlns='urn:example'>👍</reaction>`), nil, nil},
		{"no id", `<message xmlns='jabber:client'><reactions xmlns='urn:xmpp:reactions:0'><reaction>👍</reaction></reactions></message>`, nil, reactions.ErrMalformed},
		{"over-long id", `<message xmlns='jabber:client'><reactions xmlns='urn:xmpp:reactions:0' id='` + strings.Repeat("x", reactions.MaxID+1) + `'/></message>`, nil, reactions.ErrMalformed},
		{"two reactions elements", `<message xmlns='jabber:client'><reactions xmlns='urn:xmpp:reactions:0' id='a'/><reactions xmlns='urn:xmpp:reactions:0' id='b'/></message>`, nil, reactions.ErrMalformed},
		{"none", `<message xmlns='jabber:client'><body>hi</body></message>`, nil, reactions.ErrNotFound},
		{"error message", `<message xmlns='jabber:client' type='error'><reactions xmlns='urn:xmpp:reactions:0' id='a'/></message>`, nil, reactions.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := reactions.Parse(mustParse(t, tt.xml))
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) || !slices.Equal(got.Emoji, tt.want) {
				t.Fatalf("Parse = %+v, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestParseTooMany(t *testing.T) {
	// Distinct valid emoji from the Emoticons block.
	var b strings.Builder
	for i := range reactions.MaxReactions + 1 {
		fmt.Fprintf(&b, "<reaction>%c</reaction>", rune(0x1F600+i))
	}
	msg := `<message xmlns='jabber:client'><reactions xmlns='urn:xmpp:reactions:0' id='m'>` + b.String() + `</reactions></message>`
	if got, err := reactions.Parse(mustParse(t, msg)); !errors.Is(err, reactions.ErrMalformed) {
		t.Errorf("Parse(%d reactions) = %d, %v; want ErrMalformed", reactions.MaxReactions+1, len(got.Emoji), err)
	}
	// Exactly the limit is fine, and duplicates don't count.
	msg = strings.Replace(msg, fmt.Sprintf("%c", rune(0x1F600+reactions.MaxReactions)), "\U0001F600", 1)
	if got, err := reactions.Parse(mustParse(t, msg)); err != nil || len(got.Emoji) != reactions.MaxReactions {
		t.Errorf("Parse(limit) = %d, %v", len(got.Emoji), err)
	}
}

func TestValid(t *testing.T) {
	valid := []string{
		"👋", "🐢", "💘", "💜",
		"❤️",        // U+2764 U+FE0F
		"❤",         // text presentation, still one emoji
		"👍🏽",        // skin tone
		"🇩🇪",        // flag: two regional indicators
		"1️⃣", "#⃣", // keycaps
		"🏳️‍🌈",         // ZWJ sequence
		"👩🏽‍💻",         // ZWJ with skin tone
		"👩‍❤️‍💋‍👨",     // kiss
		"👩🏻‍❤️‍💋‍👨🏼",   // 10 code points
		"🏴󠁧󠁢󠁳󠁣󠁴󠁿",      // subdivision flag with tags
		"©️", "™", "⭐", // symbols outside the big blocks
		"🫠", // Unicode 14
	}
	for _, s := range valid {
		if !reactions.Valid(s) {
			t.Errorf("Valid(%q %U) = false", s, []rune(s))
		}
	}
	invalid := []string{
		"", " ", "a", "1", "+1", "lol", "👍👍", "👍 ", "🇩", "🇩🇪🇫🇷",
		"\u200d👍", "👍\u200d", "👍\u200d\u200d👍", "\u0301", "e\u0301",
		"🏴\U000E0067\U000E0062", // tags without the terminator
		"\U000E007F", "\ufe0f", "\x00", "\xff",
		strings.Repeat("👍\u200d", 8) + "👍", // over the code point limit
	}
	for _, s := range invalid {
		if reactions.Valid(s) {
			t.Errorf("Valid(%q %U) = true", s, []rune(s))
		}
	}
}

func TestElement(t *testing.T) {
	r := reactions.Reactions{ID: "744f6e18", Emoji: []string{"👋", "🐢"}}
	want := `<reactions xmlns='urn:xmpp:reactions:0' id='744f6e18'><reaction>👋</reaction><reaction>🐢</reaction></reactions>`
	if got := r.Element().String(); got != want {
		t.Errorf("Element = %s, want %s", got, want)
	}
}

func TestAcceptable(t *testing.T) {
	self, peer := jid.MustParse("juliet@capulet.net"), jid.MustParse("romeo@montague.net")
	tests := []struct {
		sender string
		want   bool
	}{
		{"romeo@montague.net/orchard", true},
		{"juliet@capulet.net/balcony", true},
		{"tybalt@capulet.net/home", false},
	}
	for _, tt := range tests {
		if got := reactions.Acceptable(jid.MustParse(tt.sender), self, peer); got != tt.want {
			t.Errorf("Acceptable(%s) = %v", tt.sender, got)
		}
	}
	if reactions.Acceptable(jid.JID{}, jid.JID{}, jid.JID{}) {
		t.Error("zero JIDs")
	}
}
