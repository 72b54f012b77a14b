package app

import (
	"context"
	"errors"
	"log/slog"

	"fyne.io/fyne/v2"

	"github.com/tern-im/tern/app/theme"
	"github.com/tern-im/tern/assets"
)

// WindowTitle is the title of Tern's main window.
const WindowTitle = "Tern"

// ErrNoConnect is returned by Run and NewSignIn when Deps.Connect is nil.
var ErrNoConnect = errors.New("app: Deps.Connect is nil")

// ConnectFunc signs in to an XMPP account: jid is the account address,
// server an optional "host:port" that overrides DNS lookup (empty means look
// it up). It blocks until the session is up or fails, honours ctx, and returns
// a one-paragraph summary for the user on success or an error whose text the
// user will read.
type ConnectFunc func(ctx context.Context, jid, password, server string) (summary string, err error)

// Deps is what the GUI needs from the rest of Tern; cmd/tern provides it.
type Deps struct {
	// Connect is called off the UI thread when the user signs in. Required.
	Connect ConnectFunc
	// Logger receives the GUI's diagnostics; nil discards them. Passwords
	// are never logged.
	Logger *slog.Logger
}

func (d Deps) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger
}

// Run shows Tern's main window on a and runs the Fyne event loop until the
// user closes the window or ctx is done. It must be called from the main
// goroutine (a Fyne rule). Before it returns it cancels and waits for the
// work it started. The error is non-nil only when deps are incomplete.
func Run(ctx context.Context, a fyne.App, deps Deps) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	signIn, err := NewSignIn(ctx, deps)
	if err != nil {
		return err
	}
	defer signIn.Wait()
	defer cancel() // runs before Wait: stops an attempt still in flight

	a.Settings().SetTheme(theme.New())
	a.SetIcon(icon())
	w := NewWindow(a, signIn.Content())

	// Quit when ctx ends; fyne.Do because Quit touches driver state.
	stop := context.AfterFunc(ctx, func() { fyne.Do(a.Quit) })
	defer stop()

	deps.logger().Debug("showing main window")
	w.ShowAndRun()
	// The event loop has stopped: no widget may change any more.
	signIn.Close()
	return nil
}

// NewWindow creates Tern's main window on a with content: titled
// WindowTitle, with Tern's icon, sized for the sign-in screen, and the master
// window (closing it quits the app).
func NewWindow(a fyne.App, content fyne.CanvasObject) fyne.Window {
	w := a.NewWindow(WindowTitle)
	w.SetIcon(icon())
	w.SetMaster()
	w.SetContent(content)
	w.Resize(fyne.NewSize(520, 600))
	w.CenterOnScreen()
	return w
}

// icon returns Tern's icon as a Fyne resource.
func icon() fyne.Resource {
	return fyne.NewStaticResource(assets.IconName, assets.Icon)
}
