package app_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/tern-im/tern/app"
	"github.com/tern-im/tern/app/theme"
)

func TestRunNeedsOpen(t *testing.T) {
	a := test.NewTempApp(t)
	if err := app.Run(t.Context(), a, app.Deps{}); !errors.Is(err, app.ErrNoOpen) {
		t.Fatalf("Run without Open: err = %v, want ErrNoOpen", err)
	}
	if n := len(ternWindows(a)); n != 0 {
		t.Errorf("%d windows opened without Open, want 0", n)
	}
}

func TestRunOpensTheDataAndStopsEverything(t *testing.T) {
	a := test.NewTempApp(t)
	var calls atomic.Int32
	open := func(ctx context.Context, passphrase []byte) (app.Backend, error) {
		calls.Add(1)
		if passphrase != nil {
			t.Error("Open was given a passphrase before any was asked")
		}
		return nil, errors.New("disk on fire")
	}
	// The test driver's event loop returns at once, so Run does too, after
	// waiting for the goroutine that opened the data.
	if err := app.Run(t.Context(), a, app.Deps{Open: open}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("Open called %d times, want 1", n)
	}
	wins := ternWindows(a)
	if len(wins) != 1 {
		t.Fatalf("%d windows titled %q, want 1", len(wins), app.WindowTitle)
	}
	if _, ok := a.Settings().Theme().(*theme.Theme); !ok {
		t.Errorf("theme is %T, want *theme.Theme", a.Settings().Theme())
	}
	if s := wins[0].Canvas().Size(); s.Width < 900 || s.Height < 600 {
		t.Errorf("window is %v, want room for the main screen", s)
	}
}

// ternWindows returns a's windows titled "Tern" (the test driver has an
// untitled one of its own).
func ternWindows(a fyne.App) []fyne.Window {
	var out []fyne.Window
	for _, w := range a.Driver().AllWindows() {
		if w.Title() == app.WindowTitle {
			out = append(out, w)
		}
	}
	return out
}
