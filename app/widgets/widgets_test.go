package widgets_test

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/tern-im/tern/app/widgets"
	"github.com/tern-im/tern/protocol/client"
)

func TestInitials(t *testing.T) {
	for in, want := range map[string]string{
		"juliet@capulet.lit": "J",
		"Juliet Capulet":     "JC",
		"friar.laurence":     "FL",
		"élise":              "É",
		"  ":                 "?",
		"@example.org":       "EO",
	} {
		if got := widgets.Initials(in); got != want {
			t.Errorf("Initials(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMessageRowWrapsToItsWidth(t *testing.T) {
	test.NewTempApp(t)
	r := widgets.NewMessageRow()
	long := strings.Repeat("wherefore art thou ", 30)
	row := widgets.Row{Message: client.Message{ID: 1, Direction: client.Inbound, Body: long, Time: time.Now()}, Time: "09:00"}
	r.Set(row, 800)
	wide := r.HeightFor()
	r.Set(row, 300)
	narrow := r.HeightFor()
	if narrow <= wide {
		t.Fatalf("height at 300 = %v, at 800 = %v: narrower rows must be taller", narrow, wide)
	}
	if w := r.MinSize().Width; w > 300 {
		t.Fatalf("row is %v wide for a 300 timeline", w)
	}
}

func TestMessageRowStylingLinksAndMe(t *testing.T) {
	test.NewTempApp(t)
	r := widgets.NewMessageRow()
	msg := client.Message{ID: 1, Direction: client.Inbound, Body: "> quoted *line*\nsee https://tern.im/a-very-long-path-that-must-be-cut-into-pieces-somewhere ok ~no~",
		Reactions: []client.Reaction{{Sender: "a", Emojis: []string{"👍", "❤️"}}, {Sender: "b", Emojis: []string{"❤️"}}}}
	r.Set(widgets.Row{Message: msg, Time: "09:00", Author: "juliet"}, 300)
	text := r.BodyText()
	if !strings.HasPrefix(text, "┃ quoted *line*\n") {
		t.Fatalf("body = %q", text)
	}
	if links := r.Links(); len(links) < 2 || links[0] != "https://tern.im/a-very-long-path-that-must-be-cut-into-pieces-somewhere" {
		t.Fatalf("links = %q (a link wider than a line is cut into pieces that each open it)", links)
	}
	if !strings.Contains(text, "~\u0336n\u0336o\u0336~\u0336") {
		t.Fatalf("strike-through not drawn: %q", text)
	}
	if got := r.Row().Reactions(); got != "❤️ 2  👍 1" {
		t.Fatalf("reactions = %q", got)
	}
	me := widgets.Row{Message: client.Message{ID: 2, Direction: client.Inbound, Body: "/me waves"}, Author: "juliet"}
	r.Set(me, 600)
	if !me.Me() || r.BodyText() != "* juliet waves" {
		t.Fatalf("/me shown as %q", r.BodyText())
	}
	// Every line fits the bubble.
	long := widgets.Row{Message: client.Message{ID: 3, Direction: client.Outbound, Body: strings.Repeat("*bold* and _it_ ", 40), State: client.StateDelivered}}
	r.Set(long, 400)
	if w := r.MinSize().Width; w > 400 {
		t.Fatalf("row is %v wide for a 400 timeline", w)
	}
}

func TestDecryptionFailureRow(t *testing.T) {
	row := widgets.Row{Message: client.Message{ID: 4, Direction: client.Inbound, Encryption: client.EncryptionOMEMO, Failure: "bad MAC"}, Undecryptable: "bad MAC", Repairable: true}
	if row.Encrypted() || row.Body() != widgets.UndecryptableText+": bad MAC" || row.Me() {
		t.Fatalf("row: encrypted %v, body %q", row.Encrypted(), row.Body())
	}
}

// TestMessageRowSetSkipsUnchanged: setting the row a MessageRow shows
// already keeps its layout; any change of what it shows lays it out again.
func TestMessageRowSetSkipsUnchanged(t *testing.T) {
	test.NewTempApp(t)
	r := widgets.NewMessageRow()
	test.NewTempWindow(t, r)
	row := widgets.Row{Message: client.Message{ID: 1, Direction: client.Outbound, Body: "first", State: client.StateSent}, Time: "09:41", Sender: "You"}
	r.Set(row, 400)
	h := r.MinSize().Height
	long := row
	long.Message.Body = strings.Repeat("many words ", 40)
	r.Set(long, 400)
	if r.MinSize().Height <= h {
		t.Fatalf("a longer body kept the height %v", h)
	}
	if got := r.Row().Body(); got != long.Body() {
		t.Fatalf("row shows %q", got)
	}
	delivered := long
	delivered.Message.State = client.StateDelivered
	r.Set(delivered, 400)
	if r.Row().Message.State != client.StateDelivered {
		t.Fatal("a state change was not taken")
	}
	r.Set(row, 400)
	if r.MinSize().Height != h {
		t.Fatalf("back to the short body: height %v, want %v", r.MinSize().Height, h)
	}
}
