package app_test

import (
	"context"
	"errors"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tern-im/tern/app"
	"github.com/tern-im/tern/app/theme"
)

func TestRunShowsSignInWindow(t *testing.T) {
	a := test.NewTempApp(t)
	connect := func(context.Context, string, string, string) (string, error) { return "", nil }
	// The test driver's event loop returns at once, so Run does too.
	if err := app.Run(t.Context(), a, app.Deps{Connect: connect}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	wins := ternWindows(a)
	if len(wins) != 1 {
		t.Fatalf("%d windows titled %q, want 1", len(wins), "Tern")
	}
	w := wins[0]
	if _, ok := a.Settings().Theme().(*theme.Theme); !ok {
		t.Errorf("theme is %T, want *theme.Theme", a.Settings().Theme())
	}
	found := false
	for _, o := range test.LaidOutObjects(w.Content()) {
		if b, ok := o.(*widget.Button); ok && b.Text == app.SignInLabel && b.Visible() {
			found = true
		}
	}
	if !found {
		t.Error("main window shows no Sign in button")
	}
	if s := w.Canvas().Size(); s.Width < 400 || s.Height < 500 {
		t.Errorf("window is %v, want room for the sign-in form", s)
	}
}

func TestRunNeedsConnect(t *testing.T) {
	a := test.NewTempApp(t)
	if err := app.Run(t.Context(), a, app.Deps{}); !errors.Is(err, app.ErrNoConnect) {
		t.Fatalf("Run without Connect: err = %v, want ErrNoConnect", err)
	}
	if n := len(ternWindows(a)); n != 0 {
		t.Errorf("%d windows opened without Connect, want 0", n)
	}
}

// ternWindows returns a's windows titled "Tern" (the test driver has an
// untitled one of its own).
func ternWindows(a fyne.App) []fyne.Window {
	var out []fyne.Window
	for _, w := range a.Driver().AllWindows() {
		if w.Title() == "Tern" {
			out = append(out, w)
		}
	}
	return out
}
