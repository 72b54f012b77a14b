package account

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	fynetheme "fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tern-im/tern/app/widgets"
	"github.com/tern-im/tern/assets"
)

// Texts of the sign-in screen that tests and screen readers rely on.
const (
	// SignInLabel is the text of the sign-in button.
	SignInLabel = "Sign in"
	// CancelLabel is the text of the button that abandons a sign-in in progress.
	CancelLabel = "Cancel"
	// AdvancedLabel is the text of the button that shows the server override.
	AdvancedLabel = "Advanced"
	// AddressPlaceholder is the example shown in the empty address field.
	AddressPlaceholder = "name@example.org"
	// ServerPlaceholder is the example shown in the empty server field.
	ServerPlaceholder = "host:port"
	// CreateLabel is the text of the button that opens account creation.
	CreateLabel = "Create an account"
	// BackLabel is the text of the button that leaves the screen unused.
	BackLabel = "Back"
)

// ErrNoConnect is returned by NewSignIn and NewRegister when their
// Connect or Register function is nil.
var ErrNoConnect = errors.New("account: no connect function")

// ConnectFunc signs in to an XMPP account: address is the account's JID,
// server an optional "host:port" that overrides DNS lookup (empty means
// look it up). It blocks until the account is signed in (and stored) or
// the attempt failed, honours ctx, and returns an error whose text the
// user will read.
type ConnectFunc func(ctx context.Context, address, password, server string) error

// SignInOptions configures a sign-in screen.
type SignInOptions struct {
	// Connect signs in; it runs off the UI thread. Required.
	Connect ConnectFunc
	// OnSignedIn is called on the Fyne thread after a successful sign-in.
	OnSignedIn func(address string)
	// OnCreate, when set, adds a button that opens account creation.
	OnCreate func()
	// OnBack, when set, adds a button that leaves the screen (adding an
	// account from the main window).
	OnBack func()
	// Intro replaces the line under the title ("" keeps the default).
	Intro string
	// Logger receives diagnostics; nil discards them. Passwords are never
	// logged.
	Logger *slog.Logger
}

// SignIn is the sign-in screen: address, password, an optional server
// override behind an Advanced button, and a Sign in button. Signing in runs
// SignInOptions.Connect on a goroutine of its own while the screen shows
// progress and a Cancel button; the outcome is then shown on the screen and
// a success reported to OnSignedIn.
type SignIn struct {
	ctx     context.Context // ends every attempt; the caller cancels it before Wait
	connect ConnectFunc
	done    func(string)
	log     *slog.Logger
	wg      sync.WaitGroup // counts attempt goroutines
	closed  atomic.Bool    // set by Close: results are no longer shown

	// The widgets and every field below are owned by the Fyne thread.
	address, password, server *widget.Entry
	signIn                    *widget.Button
	activity                  // progress, cancel, status
	content                   fyne.CanvasObject

	attempt     int                // number of the latest attempt; older results are dropped
	stopAttempt context.CancelFunc // cancels the attempt in flight; nil when idle
}

// NewSignIn builds the sign-in screen. Attempts run under ctx; cancel ctx
// and call Wait before dropping the screen. Call it on the Fyne thread.
func NewSignIn(ctx context.Context, opts SignInOptions) (*SignIn, error) {
	if opts.Connect == nil {
		return nil, ErrNoConnect
	}
	s := &SignIn{ctx: ctx, connect: opts.Connect, done: opts.OnSignedIn, log: logger(opts.Logger)}

	s.address = widget.NewEntry()
	s.address.SetPlaceHolder(AddressPlaceholder)
	s.password = widget.NewPasswordEntry()
	s.server = widget.NewEntry()
	s.server.SetPlaceHolder(ServerPlaceholder)
	// Enter in any field signs in, as in every sign-in form.
	for _, e := range []*widget.Entry{s.address, s.password, s.server} {
		e.OnSubmitted = func(string) { s.submit() }
	}

	s.signIn = widget.NewButtonWithIcon(SignInLabel, fynetheme.LoginIcon(), s.submit)
	s.signIn.Importance = widget.HighImportance
	s.cancel = widget.NewButton(CancelLabel, s.abandon)
	s.cancel.Importance = widget.LowImportance
	s.cancel.Hide()
	s.progress = widgets.NewProgress()
	s.status = widget.NewLabel("")
	s.status.Wrapping = fyne.TextWrapWord
	s.status.Alignment = fyne.TextAlignCenter
	s.status.Hide()

	logo := canvas.NewImageFromResource(icon())
	logo.FillMode = canvas.ImageFillContain
	logo.SetMinSize(fyne.NewSquareSize(88))
	title := widget.NewLabelWithStyle("Welcome to Tern", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	title.SizeName = fynetheme.SizeNameSubHeadingText
	if opts.Intro == "" {
		opts.Intro = "Sign in with your XMPP address."
	}
	intro := widget.NewLabelWithStyle(opts.Intro, fyne.TextAlignCenter, fyne.TextStyle{})
	intro.Wrapping = fyne.TextWrapWord

	// One form layout for all rows keeps the labels and fields aligned; the
	// server row stays hidden until the user opens Advanced.
	label := func(text string) *widget.Label {
		return widget.NewLabelWithStyle(text, fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
	}
	serverLabel := label("Server")
	hint := widget.NewLabel("Leave empty to find it from your address.")
	hint.SizeName = fynetheme.SizeNameCaptionText
	hint.Wrapping = fyne.TextWrapWord
	serverRow := container.NewVBox(s.server, hint)
	serverLabel.Hide()
	serverRow.Hide()
	form := container.New(layout.NewFormLayout(),
		label("Address"), s.address,
		label("Password"), s.password,
		serverLabel, serverRow,
	)
	var advanced *widget.Button
	advanced = widget.NewButtonWithIcon(AdvancedLabel, fynetheme.MenuDropDownIcon(), func() {
		if serverRow.Visible() {
			serverLabel.Hide()
			serverRow.Hide()
			advanced.SetIcon(fynetheme.MenuDropDownIcon())
			return
		}
		serverLabel.Show()
		serverRow.Show()
		advanced.SetIcon(fynetheme.MenuDropUpIcon())
	})
	advanced.Importance = widget.LowImportance
	advanced.Alignment = widget.ButtonAlignLeading

	column := container.NewVBox(
		container.NewCenter(logo),
		title,
		intro,
		form,
		advanced,
		s.signIn,
		s.progress,
		s.status,
		s.cancel,
	)
	if opts.OnCreate != nil {
		create := widget.NewButtonWithIcon(CreateLabel, fynetheme.ContentAddIcon(), opts.OnCreate)
		create.Importance = widget.LowImportance
		column.Add(create)
	}
	if opts.OnBack != nil {
		back := widget.NewButtonWithIcon(BackLabel, fynetheme.NavigateBackIcon(), opts.OnBack)
		back.Importance = widget.LowImportance
		column.Add(back)
	}
	s.content = container.New(&columnLayout{width: 400}, column)
	return s, nil
}

// logger returns l, or a logger that discards everything.
func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// icon returns Tern's icon as a Fyne resource.
func icon() fyne.Resource {
	return fyne.NewStaticResource(assets.IconName, assets.Icon)
}

// Content returns the screen's root object, for a window's SetContent.
func (s *SignIn) Content() fyne.CanvasObject { return s.content }

// FocusTarget returns the widget to focus when the screen is shown: the
// address field.
func (s *SignIn) FocusTarget() fyne.Focusable { return s.address }

// Close marks the screen as gone: attempts that end afterwards no longer
// touch its widgets. Call it once the window is closed or the event loop has
// stopped; it does not stop attempts (cancel the context given to NewSignIn).
func (s *SignIn) Close() { s.closed.Store(true) }

// Wait blocks until every sign-in attempt has finished. Cancel the context
// given to NewSignIn first, or Wait lasts as long as Connect does.
func (s *SignIn) Wait() { s.wg.Wait() }

// submit validates the form and starts an attempt. Fyne thread only.
func (s *SignIn) submit() {
	if s.stopAttempt != nil {
		return // one attempt at a time; the button is disabled anyway
	}
	address := strings.TrimSpace(s.address.Text)
	password := s.password.Text
	server := strings.TrimSpace(s.server.Text)
	if msg := validate(address, password, server); msg != "" {
		s.show(msg, widget.DangerImportance)
		return
	}

	ctx, stop := context.WithCancel(s.ctx)
	s.attempt++
	attempt := s.attempt
	s.stopAttempt = stop
	s.setBusy(true)
	s.show("Signing in as "+address+"…", widget.MediumImportance)
	s.log.Debug("sign-in started", "jid", address, "server", server)

	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer stop()
		err := s.connect(ctx, address, password, server)
		if s.closed.Load() {
			return
		}
		// The one crossing back onto the UI thread. After the event loop
		// has stopped Fyne runs this inline, hence the second check.
		fyne.Do(func() {
			if !s.closed.Load() {
				s.finish(attempt, address, err)
			}
		})
	}()
}

// abandon cancels the attempt in flight. Fyne thread only.
func (s *SignIn) abandon() {
	if s.stopAttempt != nil {
		s.stopAttempt()
	}
}

// finish shows the outcome of an attempt. Fyne thread only.
func (s *SignIn) finish(attempt int, address string, err error) {
	if attempt != s.attempt {
		return
	}
	s.stopAttempt = nil
	s.setBusy(false)
	switch {
	case err == nil:
		s.log.Info("signed in", "jid", address)
		s.password.SetText("")
		s.show("Signed in as "+address+".", widget.SuccessImportance)
		if s.done != nil {
			s.done(address)
		}
	case errors.Is(err, context.Canceled):
		s.log.Debug("sign-in cancelled", "err", err)
		s.show("Sign-in cancelled.", widget.MediumImportance)
	default:
		s.log.Info("sign-in failed", "err", err)
		s.show("Could not sign in: "+err.Error(), widget.DangerImportance)
	}
}

// setBusy switches the form between editing and waiting. Fyne thread only.
func (s *SignIn) setBusy(busy bool) {
	s.activity.setBusy(busy, s.address, s.password, s.server, s.signIn)
}

// validate returns what the user must fix before signing in, or "".
// It checks the shape only; the engine parses the address fully (RFC 7622).
func validate(address, password, server string) string {
	local, domain, ok := strings.Cut(address, "@")
	switch {
	case address == "":
		return "Enter your address, like " + AddressPlaceholder + "."
	case !ok || local == "" || domain == "" || strings.ContainsAny(address, " \t"):
		return "The address should look like " + AddressPlaceholder + "."
	case password == "":
		return "Enter your password."
	}
	if server != "" {
		host, port, err := net.SplitHostPort(server)
		n, perr := strconv.ParseUint(port, 10, 16)
		if err != nil || host == "" || perr != nil || n == 0 {
			return "The server should look like xmpp.example.org:5222."
		}
	}
	return ""
}

// columnLayout centres a single column of at most width points, so the form
// stays readable in a wide window and uses the space of a narrow one.
type columnLayout struct{ width float32 }

// Layout implements fyne.Layout.
func (l *columnLayout) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	pad := fynetheme.Padding() * 4
	for _, o := range objects {
		ms := o.MinSize()
		w := max(ms.Width, min(l.width, size.Width-2*pad))
		h := ms.Height
		o.Resize(fyne.NewSize(w, h))
		o.Move(fyne.NewPos((size.Width-w)/2, max(pad, (size.Height-h)/2)))
	}
}

// MinSize implements fyne.Layout.
func (l *columnLayout) MinSize(objects []fyne.CanvasObject) fyne.Size {
	pad := fynetheme.Padding() * 4
	var s fyne.Size
	for _, o := range objects {
		s = s.Max(o.MinSize())
	}
	return s.AddWidthHeight(2*pad, 2*pad)
}
