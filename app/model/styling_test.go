package model_test

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tern-im/tern/app/model"
)

// show renders parsed lines compactly: quote depth, pre, and each span as
// text with its styles (S strong, E emphasis, X strike, M mono, L link).
func show(lines []model.Line) string {
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			b.WriteString(" | ")
		}
		if l.Quote > 0 {
			fmt.Fprintf(&b, "q%d:", l.Quote)
		}
		if l.Pre {
			b.WriteString("pre:")
		}
		for _, s := range l.Spans {
			tag := ""
			for _, f := range []struct {
				s model.Style
				c string
			}{{model.StyleStrong, "S"}, {model.StyleEmphasis, "E"}, {model.StyleStrike, "X"}, {model.StyleMono, "M"}} {
				if s.Style&f.s != 0 {
					tag += f.c
				}
			}
			if s.Link != "" {
				tag += "L"
			}
			if tag == "" {
				fmt.Fprintf(&b, "[%s]", s.Text)
			} else {
				fmt.Fprintf(&b, "[%s:%s]", tag, s.Text)
			}
		}
	}
	return b.String()
}

// The examples of XEP-0393 §5.
func TestParseStylingXEPExamples(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain span", "[plain span]"},
		{"*strong span*", "[S:*][S:strong span][S:*]"},
		{"plain _emphasis_ plain", "[plain ][E:_][E:emphasis][E:_][ plain]"},
		{"`pre` plain *strong*", "[M:`pre`][ plain ][S:*][S:strong][S:*]"},
		{"*strong*plain*", "[S:*][S:strong][S:*][plain*]"},
		{"* plain *strong*", "[* plain ][S:*][S:strong][S:*]"},
		{"not strong*", "[not strong*]"},
		{"*not strong", "[*not strong]"},
		{"*not \n strong*", "[*not ] | [ strong*]"},
		{"*not *strong", "[*not *strong]"},
		{"**", "[**]"},
		{"***", "[***]"},
		{"****", "[****]"},
		{"Everyone ~dis~likes cake.", "[Everyone ][X:~][X:dis][X:~][likes cake.]"},
		{"This is `*monospace*`", "[This is ][M:`*monospace*`]"},
		{"This is *`monospace and bold`*", "[This is ][S:*][SM:`monospace and bold`][S:*]"},
		{"*_both_*", "[S:*][SE:_][SE:both][SE:_][S:*]"},
		{"> That that is, is.\nSaid the old hermit of Prague.", "q1:[That that is, is.] | [Said the old hermit of Prague.]"},
		{">> That that is, is.\n> Said the old hermit of Prague.\nWho?", "q2:[That that is, is.] | q1:[Said the old hermit of Prague.] | [Who?]"},
		{"```ignored\n(println \"Hello, world!\")\n```\nThis should show up as monospace, preformatted text ⤴",
			"pre:[M:```ignored] | pre:[M:(println \"Hello, world!\")] | pre:[M:```] | [This should show up as monospace, preformatted text ⤴]"},
		{"> ```\n> (println \"Hello, world!\")\nThe entire blockquote is a preformatted text block, but this line\nis plaintext!",
			"q1:pre:[M:```] | q1:pre:[M:(println \"Hello, world!\")] | [The entire blockquote is a preformatted text block, but this line] | [is plaintext!]"},
		{"", ""},
	} {
		if got := show(model.ParseStyling(tc.in)); got != tc.want {
			t.Errorf("ParseStyling(%q)\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

func TestParseStylingLinks(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"see https://tern.im/docs.", "[see ][L:https://tern.im/docs][.]"},
		{"(xmpp:juliet@capulet.lit?message)", "[(][L:xmpp:juliet@capulet.lit?message][)]"},
		{"*https://a.example/x*", "[S:*][SL:https://a.example/x][S:*]"},
		{"nohttp://x", "[nohttp://x]"},
		{"http:// nothing", "[http:// nothing]"},
		{"`https://not.a/link`", "[M:`https://not.a/link`]"},
		{"MAILTO:a@b.c", "[L:MAILTO:a@b.c]"},
	} {
		if got := show(model.ParseStyling(tc.in)); got != tc.want {
			t.Errorf("ParseStyling(%q)\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
	if got := show(model.Plain("*not styled* https://x.y")); got != "[*not styled* ][L:https://x.y]" {
		t.Errorf("Plain = %s", got)
	}
}

// checkLines verifies the parser's invariants: every line of the body
// comes back exactly (prefix + spans), spans are not empty, links are
// their text.
func checkLines(t *testing.T, body string, lines []model.Line) {
	t.Helper()
	src := strings.Split(body, "\n")
	if len(lines) != len(src) {
		t.Fatalf("%q: %d lines, want %d", body, len(lines), len(src))
	}
	for i, l := range lines {
		if got := l.Prefix + l.Text(); got != src[i] {
			t.Fatalf("%q line %d: %q, want %q", body, i, got, src[i])
		}
		for _, s := range l.Spans {
			if s.Text == "" {
				t.Fatalf("%q line %d: empty span", body, i)
			}
			if s.Link != "" && s.Link != s.Text {
				t.Fatalf("%q: link %q on text %q", body, s.Link, s.Text)
			}
		}
	}
}

func TestParseStylingLongInputIsLinear(t *testing.T) {
	// Unclosed directives and schemes in every word: the parser must stay
	// linear (a peer controls the body).
	body := strings.Repeat("*a _b ~c `d xmpp:e ", 20000)
	checkLines(t, body, model.ParseStyling(body))
	deep := strings.Repeat(">", 5000) + " x"
	lines := model.ParseStyling(deep)
	checkLines(t, deep, lines)
}

func FuzzParseStyling(f *testing.F) {
	for _, s := range []string{"*strong*", "_em_ ~st~ `m`", "> q\n>> qq\n```\npre\n```", "https://x.y/z.", "*a _b* c_", "***", ">\u00a0x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if !utf8.ValidString(body) {
			// Bodies are XML text: always valid UTF-8.
			return
		}
		checkLines(t, body, model.ParseStyling(body))
		checkLines(t, body, model.Plain(body))
	})
}

func BenchmarkParseStyling(b *testing.B) {
	body := "Hi *there*, see https://tern.im/docs and `code` — _really_ ~not~ now.\n> quoted *line*\nok"
	for b.Loop() {
		model.ParseStyling(body)
	}
}
