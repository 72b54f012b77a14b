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
