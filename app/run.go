package app

import (
	"context"
	"errors"
	"image"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	fynetheme "fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tern-im/tern/app/account"
	"github.com/tern-im/tern/app/contacts"
	"github.com/tern-im/tern/app/model"
	"github.com/tern-im/tern/app/notify"
	"github.com/tern-im/tern/app/settings"
	"github.com/tern-im/tern/app/theme"
	"github.com/tern-im/tern/assets"
	"github.com/tern-im/tern/protocol/client"
)

// WindowTitle is the title of Tern's main window (after the unread count,
// when there are unread messages).
const WindowTitle = "Tern"

// Screen names reported to Deps.OnScreen.
const (
	ScreenLoading = "loading"
	ScreenUnlock  = "unlock"
	ScreenSignIn  = "signin"
	ScreenMain    = "main"
	ScreenError   = "error"
)

var (
	// ErrNoOpen is returned by Run when Deps.Open is nil.
	ErrNoOpen = errors.New("app: Deps.Open is nil")
	// ErrNeedPassphrase is returned (wrapped) by Deps.Open when Tern's data
	// is protected by a passphrase (there is no keyring) and none was given.
	ErrNeedPassphrase = errors.New("app: the data needs its passphrase")
	// ErrChoosePassphrase is returned (wrapped) by Deps.Open on first use
	// without a keyring: the user must choose a passphrase.
	ErrChoosePassphrase = errors.New("app: choose a passphrase for the data")
)

// Backend is what the GUI needs from the rest of Tern: the store's
// history, the stored accounts, and building their engines. cmd/tern
// implements it on storage/sqlite and storage/keyring. Every method may
// block (disk, keyring, network) and is called off the UI thread; errors
// are shown to the user as they are.
type Backend interface {
	// History is the store's history, read by the view model.
	History() client.History
	// Accounts returns the stored accounts.
	Accounts(ctx context.Context) ([]client.Account, error)
	// NewClient returns an engine for a stored account, not yet running.
	// password "" means the stored one; without one it fails with an error
	// matching client.ErrNoPassword.
	NewClient(ctx context.Context, a client.Account, password string) (*client.Client, error)
	// SignIn checks the credentials by signing in once, then stores the
	// account and its password (in the keyring, when there is one).
	SignIn(ctx context.Context, address, password, server string) (client.Account, error)
	// Register creates an account by in-band registration (XEP-0077);
	// fill answers the server's form. It does not store the account.
	Register(ctx context.Context, address, password, server string, fill account.FillFunc) error
	// SetEnabled remembers whether an account connects at start-up.
	SetEnabled(ctx context.Context, id client.AccountID, on bool) error
	// RemoveAccount forgets an account, its history and its password.
	RemoveAccount(ctx context.Context, a client.Account) error
	// Directory reads an account's roster, subscription requests and
	// block list from the store, for the contacts screen.
	contacts.Directory
	// Close releases the store; no method is called afterwards.
	Close() error
}

// Deps is what Run needs; cmd/tern provides it.
type Deps struct {
	// Open opens Tern's data and returns the backend. It runs off the UI
	// thread. passphrase is nil on the first call; when Open fails with
	// ErrNeedPassphrase or ErrChoosePassphrase the user is asked for one
	// and Open is called again with it. Required.
	Open func(ctx context.Context, passphrase []byte) (Backend, error)
	// Notifier shows desktop notifications; nil shows none.
	Notifier notify.Notifier
	// OnScreen, when set, is called on the Fyne thread each time a screen
	// is shown, with its name (ScreenMain, …): a timing marker.
	OnScreen func(name string)
	// OnDrawn, when set, is called with a screen's name when the window
	// first paints it after it was shown (from the painter, on the Fyne
	// thread): the timing marker of what the user sees.
	OnDrawn func(name string)
	// TrimMemory, when set, returns the memory the process no longer uses
	// outside Go's heap (the C allocator's: the OpenGL driver's) to the
	// operating system; Tern calls it when a session has settled, after
	// the Go runtime has given back its own.
	TrimMemory func()
	// TrayHost, when set, reports whether the desktop shows tray icons
	// (on Linux: a StatusNotifierWatcher on the session bus). Tern puts
	// no icon in a tray nobody shows. It runs off the Fyne thread at
	// start and gives up (false) when ctx ends; nil means the desktop has
	// a tray.
	TrayHost func(ctx context.Context) bool
	// Logger receives the GUI's diagnostics; nil discards them. Passwords
	// and message bodies are never logged.
	Logger *slog.Logger
}

func (d Deps) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger
}

// Run shows Tern's window on a and runs the Fyne event loop until the user
// quits or ctx is done: first the passphrase prompt when the data needs
// one, then the sign-in screen when no account is stored, else the main
// window with every enabled account connecting. It must be called from the
// main goroutine (a Fyne rule). Before it returns it stops the accounts'
// engines (closing their streams) and every goroutine it started, and
// closes the backend. The error is non-nil only when deps are incomplete.
func Run(ctx context.Context, a fyne.App, deps Deps) error {
	if deps.Open == nil {
		return ErrNoOpen
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	r := newRunner(ctx, a, deps)
	r.applyTheme()
	r.goTask(warmFonts)
	// Whether the desktop has a tray is asked while the window is made;
	// the question (a D-Bus call under trayCtx) ends with trayWait.
	trayIcon := make(chan []byte, 1)
	trayCtx, trayDone := context.WithTimeout(ctx, trayWait)
	defer trayDone()
	r.goTask(func() {
		if deps.TrayHost != nil && !deps.TrayHost(trayCtx) {
			trayIcon <- nil
			return
		}
		trayIcon <- scaledTrayIcon()
	})
	a.SetIcon(icon())
	// The data opens while the window is made and mapped (creating the
	// window and its OpenGL context takes as long as opening the data):
	// the window starts empty (blank), and shows the loading screen only
	// when the data is slow.
	r.open(nil)
	r.win = NewWindow(a, r.blank())
	r.win.SetTitle(WindowTitle)
	a.Lifecycle().SetOnEnteredForeground(func() { r.setFocused(true) })
	a.Lifecycle().SetOnExitedForeground(func() { r.setFocused(false) })
	// The event loop has stopped (and no longer touches the widgets), and
	// Fyne saves the preferences right after this hook: the open draft
	// goes into them first.
	a.Lifecycle().SetOnStopped(r.closeMain)

	// Quit when ctx ends; fyne.Do because Quit touches driver state.
	stop := context.AfterFunc(ctx, func() { fyne.Do(a.Quit) })

	r.showLoadingLater(loadingDelay)
	select {
	case icon := <-trayIcon:
		if icon != nil {
			r.startTray(icon)
		} else {
			r.log.Debug("no system tray on this desktop")
		}
	case <-trayCtx.Done():
		r.log.Info("no system tray: the session bus did not answer in time")
	}
	trayDone()
	r.log.Debug("showing the window")
	r.win.ShowAndRun()
	// The event loop has stopped: no widget may change any more, and
	// Quit must not be called again (the driver is gone).
	stop()
	r.closeMain() // done already unless the driver skipped the hook
	cancel()
	r.stop()
	return nil
}

// warmFonts loads the fonts of the text styles every screen draws
// (regular and bold) while the data opens and the window is made: Fyne
// parses a style's fonts, tens of milliseconds of work, the first time
// it measures text in that style, on the thread that asks — otherwise the
// Fyne thread, during the first frame.
func warmFonts() {
	for _, style := range []fyne.TextStyle{{}, {Bold: true}} {
		fyne.MeasureText("Tern", fynetheme.TextSize(), style)
	}
}

// closeMain stops showing changes and saves what the main screen must
// keep (the open draft), once, when the event loop has stopped.
func (r *runner) closeMain() {
	if r.closed.Swap(true) {
		return
	}
	if r.main != nil {
		r.main.Close()
	}
}

// NewWindow creates Tern's main window on a with content: titled
// WindowTitle, with Tern's icon, sized for the main screen (the sign-in
// screens centre their column in it, so the window never has to move or
// grow after it is mapped), and the master window (closing it quits the
// app).
func NewWindow(a fyne.App, content fyne.CanvasObject) fyne.Window {
	w := a.NewWindow(WindowTitle)
	w.SetIcon(icon())
	w.SetMaster()
	w.SetContent(content)
	w.Resize(fyne.NewSize(960, 640))
	w.CenterOnScreen()
	return w
}

// icon returns Tern's icon as a Fyne resource.
func icon() fyne.Resource {
	return fyne.NewStaticResource(assets.IconName, assets.Icon)
}

// engine is one running account.
type engine struct {
	account client.Account
	client  *client.Client
	stop    context.CancelFunc
	done    chan struct{} // closed when Run and the bridge have returned
}

// runner is one run of the GUI: the window, the backend and the engines.
type runner struct {
	ctx    context.Context
	app    fyne.App
	deps   Deps
	log    *slog.Logger
	prefs  fyne.Preferences
	closed atomic.Bool    // the event loop has stopped
	wg     sync.WaitGroup // every goroutine the runner started
	center *notify.Center

	firstMu  sync.Mutex    // guards windowUp and pending
	windowUp bool          // the window has painted its first frame
	pending  []func()      // screens waiting for it
	drawn    chan struct{} // closed when the window first paints a screen

	mu       sync.Mutex // guards the fields below
	backend  Backend
	model    *model.Model
	engines  map[client.AccountID]*engine
	settings settings.Settings
	status   notify.Status
	focused  bool

	// Fyne thread only.
	win        fyne.Window
	shown      bool                        // a screen is in the window
	drawnOnce  sync.Once                   // closes drawn
	loadingBar *widget.ProgressBarInfinite // while the loading screen is shown
	tray       *notify.Tray                // nil without a tray
	main       *Main
	mainEngine map[client.AccountID]model.Engine // what Main sends with
	unlock     *account.Unlock
	setWin     fyne.Window // the settings window, when open
	setScreen  *settings.Screen
	addWin     fyne.Window // the add-account window, when open
	screens    []interface{ Close() }
	waits      []func()
}

func newRunner(ctx context.Context, a fyne.App, deps Deps) *runner {
	r := &runner{
		ctx: ctx, app: a, deps: deps, log: deps.logger(), prefs: a.Preferences(),
		engines: map[client.AccountID]*engine{}, mainEngine: map[client.AccountID]model.Engine{},
		focused: true,
		drawn:   make(chan struct{}),
	}
	r.settings = settings.Load(r.prefs)
	r.center = notify.NewCenter(ctx, deps.Notifier, notifySettings(r.settings), nil, r.log)
	return r
}

// notifySettings returns the notification part of the settings.
func notifySettings(s settings.Settings) notify.Settings {
	return notify.Settings{Enabled: s.Notifications, HideText: s.HideText}
}

// goTask runs f on a goroutine the runner owns.
func (r *runner) goTask(f func()) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		f()
	}()
}

// do runs f on the Fyne thread unless the event loop has stopped.
func (r *runner) do(f func()) {
	if r.closed.Load() {
		return
	}
	fyne.Do(func() {
		if !r.closed.Load() {
			f()
		}
	})
}

// stop ends everything after the event loop: the engines (their streams
// close gracefully under the cancelled context), the screens' attempts,
// the notification center and the backend.
func (r *runner) stop() {
	for _, s := range r.screens {
		s.Close()
	}
	for _, w := range r.waits {
		w()
	}
	r.wg.Wait()
	if r.main != nil {
		r.main.Wait()
	}
	r.center.Wait()
	r.mu.Lock()
	b := r.backend
	r.mu.Unlock()
	if b != nil {
		if err := b.Close(); err != nil {
			r.log.Warn("closing the store", "err", err)
		}
	}
}

// trayWait bounds how long the start waits to learn whether the desktop
// has a tray (a D-Bus round trip).
const trayWait = 250 * time.Millisecond

// engineWait bounds how long the stored accounts wait for the first
// frame of the main screen before they connect.
const engineWait = 500 * time.Millisecond

// loadingDelay is how long the window stays empty, waiting for the first
// screen (sign-in or main), before it shows the loading screen: a loading
// screen that flashes for a moment is noise.
const loadingDelay = 400 * time.Millisecond

// first shows a screen: f runs on the Fyne thread once the window has
// painted its first, empty frame. The window's first frame costs the
// same whatever it shows (the OpenGL context and the window's mapping), and
// a screen that comes after it draws in a frame of its own, sooner than
// one that is in the window from its start. Off the Fyne thread.
func (r *runner) first(f func()) {
	r.firstMu.Lock()
	if !r.windowUp {
		r.pending = append(r.pending, f)
		r.firstMu.Unlock()
		return
	}
	r.firstMu.Unlock()
	r.do(f)
}

// blank is the window's content until the first screen: nothing, and a
// marker that lets the screens in once it has been painted.
func (r *runner) blank() fyne.CanvasObject {
	return container.NewStack(layout.NewSpacer(), drawnMarker(func() {
		// In the painter: change the content after this frame.
		r.do(r.letScreensIn)
	}))
}

// letScreensIn shows the screens that waited for the window's first frame,
// and lets later ones through at once. Fyne thread.
func (r *runner) letScreensIn() {
	r.firstMu.Lock()
	r.windowUp = true
	fs := r.pending
	r.pending = nil
	r.firstMu.Unlock()
	for _, f := range fs {
		f()
	}
}

// showLoadingLater shows the loading screen if no other screen has come
// after delay; a window that has not painted its first frame by then
// (hidden, or a driver that paints late) takes its screens anyway. Main
// goroutine.
func (r *runner) showLoadingLater(delay time.Duration) {
	t := time.AfterFunc(delay, func() {
		r.do(func() {
			r.letScreensIn()
			if !r.shown {
				r.show(ScreenLoading, r.loading())
			}
		})
	})
	context.AfterFunc(r.ctx, func() { t.Stop() })
}

// startTray puts Tern's icon (a small PNG) and menu in the system tray.
// It runs before the event loop starts: Fyne 2.7 registers the tray with
// the desktop only when its loop starts (a tray set up later never appears,
// and Fyne's teardown of it panics at quit). Main goroutine.
func (r *runner) startTray(icon []byte) {
	r.tray = notify.NewTray(r.app, icon, notify.TrayActions{
		Show:      func() { r.win.Show(); r.win.RequestFocus() },
		SetStatus: r.setStatus,
		Quit:      r.app.Quit,
	})
}

// scaledTrayIcon returns Tern's icon scaled for the tray: the desktop gets
// its pixels, decoded on the Fyne thread when the loop starts, and a small
// image decodes in no time.
func scaledTrayIcon() []byte {
	b, err := notify.TrayIcon(assets.Icon)
	if err != nil {
		return assets.Icon
	}
	return b
}

// show puts content in the window and reports the screen. Fyne thread.
func (r *runner) show(name string, content fyne.CanvasObject) {
	if r.loadingBar != nil {
		// Its animation would go on, off screen, repainting the window
		// 60 times a second: Fyne stops it on Stop only (see
		// widgets.Progress).
		r.loadingBar.Stop()
		r.loadingBar.Hide()
		r.loadingBar = nil
	}
	content = container.NewStack(content, drawnMarker(func() {
		if r.deps.OnDrawn != nil {
			r.deps.OnDrawn(name)
		}
		r.drawnOnce.Do(func() { close(r.drawn) })
	}))
	r.win.SetContent(content)
	r.shown = true
	if r.deps.OnScreen != nil {
		r.deps.OnScreen(name)
	}
}

// drawnMarker returns an invisible object (one transparent pixel in the
// top left corner) that calls drawn the first time the painter draws it,
// that is in the first frame that shows the content it is stacked on.
func drawnMarker(drawn func()) fyne.CanvasObject {
	var once sync.Once
	px := image.NewNRGBA(image.Rect(0, 0, 1, 1))
	raster := canvas.NewRaster(func(int, int) image.Image {
		once.Do(drawn)
		return px
	})
	raster.Resize(fyne.NewSize(1, 1))
	return container.NewWithoutLayout(raster)
}

// loading is the content shown while the data opens. Fyne thread.
func (r *runner) loading() fyne.CanvasObject {
	r.loadingBar = widget.NewProgressBarInfinite()
	return container.NewCenter(container.NewVBox(widget.NewLabel("Opening Tern…"), r.loadingBar))
}

// fail shows an error that stops Tern from going on. Fyne thread.
func (r *runner) fail(msg string) {
	l := widget.NewLabel(msg)
	l.Wrapping = fyne.TextWrapWord
	l.Importance = widget.DangerImportance
	quit := widget.NewButton("Quit", r.app.Quit)
	r.show(ScreenError, container.NewPadded(container.NewVBox(
		widget.NewLabelWithStyle("Tern cannot start", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), l, quit)))
}

// open opens the data (with a passphrase when given) on a goroutine, then
// shows the first screen.
func (r *runner) open(passphrase []byte) {
	r.goTask(func() {
		b, err := r.deps.Open(r.ctx, passphrase)
		clear(passphrase)
		if err != nil {
			r.log.Info("opening the data", "err", err)
			need, choose := errors.Is(err, ErrNeedPassphrase), errors.Is(err, ErrChoosePassphrase)
			r.first(func() {
				switch {
				case (need || choose) && r.unlock == nil:
					r.unlock = account.NewUnlock(choose, func(pp string) { r.open([]byte(pp)) })
					r.show(ScreenUnlock, r.unlock.Content())
					r.win.Canvas().Focus(r.unlock.FocusTarget())
				case r.unlock != nil && passphrase != nil:
					r.unlock.Failed(userError(err))
				default:
					r.fail(userError(err))
				}
			})
			return
		}
		r.mu.Lock()
		r.backend = b
		r.model = model.New(b.History())
		r.mu.Unlock()
		r.started(b)
	})
}

// started loads the stored accounts and shows the first screen. Off the
// Fyne thread.
func (r *runner) started(b Backend) {
	accts, err := b.Accounts(r.ctx)
	if err != nil {
		r.first(func() { r.fail("Could not read the accounts: " + err.Error()) })
		return
	}
	if len(accts) == 0 {
		r.first(r.showSignIn)
		return
	}
	for _, a := range accts {
		if _, err := r.model.AddAccount(r.ctx, a.ID, a.JID); err != nil {
			r.log.Warn("loading an account's conversations", "jid", a.JID, "err", err)
		}
	}
	r.first(r.showMain)
	// The accounts connect once the window shows the conversations: the
	// first frame and the connections (TLS, roster, OMEMO) would share the
	// cores, and the conversations come first. A window that cannot paint
	// (started hidden) waits no longer than engineWait.
	select {
	case <-r.drawn:
	case <-time.After(engineWait):
	case <-r.ctx.Done():
		return
	}
	for _, a := range accts {
		if a.Enabled {
			r.startEngine(a, "")
		}
	}
}

// showSignIn shows the first-run sign-in screen. Fyne thread.
func (r *runner) showSignIn() {
	var signIn *account.SignIn
	var reg *account.Register
	toSignIn := func() {
		r.show(ScreenSignIn, signIn.Content())
		r.win.Canvas().Focus(signIn.FocusTarget())
	}
	var err error
	signIn, err = account.NewSignIn(r.ctx, account.SignInOptions{
		Connect:    r.signIn,
		OnSignedIn: func(string) { r.showMain() },
		OnCreate: func() {
			r.win.SetContent(reg.Content())
		},
		Logger: r.log,
	})
	if err != nil {
		r.fail(err.Error())
		return
	}
	reg, err = account.NewRegister(r.ctx, account.RegisterOptions{
		Register:     r.register,
		OnRegistered: func(string) { r.showMain() },
		OnBack:       toSignIn,
		Logger:       r.log,
	})
	if err != nil {
		r.fail(err.Error())
		return
	}
	r.screens = append(r.screens, signIn, reg)
	r.waits = append(r.waits, signIn.Wait, reg.Wait)
	toSignIn()
}

// signIn is the sign-in screens' Connect: check and store the account,
// then start its engine with the password just typed. Off the Fyne thread.
func (r *runner) signIn(ctx context.Context, address, password, server string) error {
	r.mu.Lock()
	b := r.backend
	r.mu.Unlock()
	a, err := b.SignIn(ctx, address, password, server)
	if err != nil {
		return err
	}
	if _, err := r.model.AddAccount(r.ctx, a.ID, a.JID); err != nil {
		r.log.Warn("loading an account's conversations", "jid", a.JID, "err", err)
	}
	r.startEngine(a, password)
	return nil
}

// register is the registration screens' Register: create the account,
// then sign in to it. Off the Fyne thread.
func (r *runner) register(ctx context.Context, address, password, server string, fill account.FillFunc) error {
	r.mu.Lock()
	b := r.backend
	r.mu.Unlock()
	if err := b.Register(ctx, address, password, server, fill); err != nil {
		return err
	}
	return r.signIn(ctx, address, password, server)
}

// showMain shows the main window, once. Fyne thread.
func (r *runner) showMain() {
	if r.main != nil {
		r.closeAddAccount()
		return
	}
	r.mu.Lock()
	b, s := r.backend, r.settings
	r.mu.Unlock()
	r.main = NewMain(r.ctx, r.model, r.mainEngine)
	r.main.OnTitle = r.setTitle
	r.main.OnOverlay = func(title string) { r.log.Debug("overlay shown", "title", title) }
	r.main.SetDrafts(prefDrafts{r.prefs})
	r.main.SetSendTyping(s.SendTyping)
	r.main.SetDirectory(b)
	r.main.Shortcuts(r.win.Canvas())
	settingsButton := widget.NewButtonWithIcon("", fynetheme.SettingsIcon(), r.openSettings)
	settingsButton.Importance = widget.LowImportance
	addButton := widget.NewButtonWithIcon("", fynetheme.ContentAddIcon(), r.openAddAccount)
	addButton.Importance = widget.LowImportance
	bar := container.NewBorder(nil, nil, widget.NewLabelWithStyle("Tern", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewHBox(addButton, settingsButton))
	content := container.NewBorder(container.NewVBox(bar, widget.NewSeparator()), nil, nil, nil, r.main.Content())
	r.setTitle(r.main.Title())
	r.show(ScreenMain, content)
}

// setTitle shows the unread count in the title and the tray. Fyne thread.
func (r *runner) setTitle(title string) {
	r.win.SetTitle(title)
	if r.tray != nil {
		r.tray.SetUnread(title != WindowTitle)
	}
}

// startEngine builds and starts the engine of a stored account, asking for
// its password when none is stored. Off the Fyne thread.
func (r *runner) startEngine(a client.Account, password string) {
	r.mu.Lock()
	b, running := r.backend, r.engines[a.ID] != nil
	s, status, focused := r.settings, r.status, r.focused
	r.mu.Unlock()
	if running || r.ctx.Err() != nil {
		return
	}
	c, err := b.NewClient(r.ctx, a, password)
	if errors.Is(err, client.ErrNoPassword) || errors.Is(err, client.ErrNoKeyring) {
		r.do(func() {
			account.AskPassword(r.win, a.JID.String(), "Tern keeps no password for this account.", func(pw string) {
				r.goTask(func() { r.startEngine(a, pw) })
			})
		})
		return
	}
	if err != nil {
		r.log.Warn("starting an account", "jid", a.JID, "err", err)
		r.applyEvent(a.ID, client.Failed{Err: err})
		return
	}
	c.SetSendChatStates(s.SendTyping)
	c.SetSendReadMarkers(s.SendMarkers)
	_ = c.SetActive(focused) // offline: only kept for the session
	r.presence(r.ctx, c, status)

	ctx, stop := context.WithCancel(r.ctx)
	e := &engine{account: a, client: c, stop: stop, done: make(chan struct{})}
	r.mu.Lock()
	if r.engines[a.ID] != nil || r.ctx.Err() != nil {
		r.mu.Unlock()
		stop()
		return
	}
	r.engines[a.ID] = e
	r.mu.Unlock()
	r.do(func() { r.mainEngine[a.ID] = c })

	var wg sync.WaitGroup
	wg.Add(2)
	r.goTask(func() {
		defer wg.Done()
		if err := c.Run(ctx); err != nil {
			r.log.Info("account stopped", "jid", a.JID, "err", err)
		}
	})
	r.goTask(func() {
		defer wg.Done()
		r.bridge(a, c.Events())
	})
	r.goTask(func() {
		wg.Wait()
		close(e.done)
	})
}

// stopEngine stops an account's engine and waits for it. Off the Fyne
// thread.
func (r *runner) stopEngine(id client.AccountID) {
	r.mu.Lock()
	e := r.engines[id]
	delete(r.engines, id)
	r.mu.Unlock()
	if e == nil {
		return
	}
	e.stop()
	<-e.done
	r.do(func() { delete(r.mainEngine, id) })
	r.applyEvent(id, client.Offline{})
}

// bridge applies an account's events to the model and shows each change
// on the Fyne thread, until the engine closes events: the event bridge of
// DESIGN.md §3 (store reads happen here, never on the Fyne thread). It
// also hands received messages to the notification center and logs the
// account's first online and roster moments (timing markers).
func (r *runner) bridge(a client.Account, events <-chan client.Event) {
	var online, roster bool
	for ev := range events {
		switch ev.(type) {
		case client.Online:
			if !online {
				online = true
				r.log.Info("account online", "jid", a.JID)
			}
		case client.RosterChanged:
			if !roster {
				roster = true
				r.log.Info("roster loaded", "jid", a.JID)
			}
		}
		r.applyEvent(a.ID, ev)
		if done, ok := ev.(client.CatchupDone); ok && done.Recheck {
			// The session has settled (the recheck follows the
			// catch-up): give the memory of the start-up's bursts back
			// now. The runtime would keep it long after the burst (fonts,
			// roster, catch-up), and a messenger idles for hours.
			r.goTask(func() {
				debug.FreeOSMemory()
				if r.deps.TrimMemory != nil {
					r.deps.TrimMemory()
				}
			})
		}
	}
}

// applyEvent applies one event of account id. Off the Fyne thread.
func (r *runner) applyEvent(id client.AccountID, ev client.Event) {
	ch, err := r.model.Apply(r.ctx, id, ev)
	if err != nil {
		if r.ctx.Err() == nil {
			r.log.Warn("applying an engine event", "err", err)
		}
		return
	}
	if ch.Received != nil {
		msg := *ch.Received
		if r.center.Received(senderName(msg, ch.Conversations), msg) {
			r.log.Debug("notified", "conversation", msg.Conversation)
		}
	}
	if ch.Empty() {
		return
	}
	r.do(func() {
		if r.main != nil {
			r.main.Apply(ch)
		}
		if ch.Accounts != nil && r.setScreen != nil {
			r.setScreen.SetAccounts(r.settingsAccounts(ch.Accounts))
		}
	})
}

// senderName names a message's conversation for a notification.
func senderName(msg client.Message, convs []model.Conversation) string {
	for _, c := range convs {
		if c.ID == msg.Conversation && c.Name != "" {
			return c.Name
		}
	}
	if msg.Sender != "" {
		return msg.Sender
	}
	return "New message"
}

// setFocused follows the window's focus: notifications only while it is
// not focused, and client state indication (XEP-0352) for every account.
// Fyne thread.
func (r *runner) setFocused(focused bool) {
	r.center.SetFocused(focused)
	r.mu.Lock()
	r.focused = focused
	clients := r.clients()
	r.mu.Unlock()
	r.log.Debug("window focus", "focused", focused)
	r.goTask(func() {
		for _, c := range clients {
			if err := c.SetActive(focused); err != nil && !errors.Is(err, client.ErrNotSupported) {
				r.log.Debug("client state indication", "err", err)
			}
		}
	})
}

// clients returns the running engines. r.mu is held.
func (r *runner) clients() []*client.Client {
	out := make([]*client.Client, 0, len(r.engines))
	for _, e := range r.engines {
		out = append(out, e.client)
	}
	return out
}

// setStatus sets every account's availability (tray menu). Fyne thread.
func (r *runner) setStatus(s notify.Status) {
	r.mu.Lock()
	r.status = s
	clients := r.clients()
	r.mu.Unlock()
	r.goTask(func() {
		for _, c := range clients {
			r.presence(r.ctx, c, s)
		}
	})
}

// presence sends status on c (kept for later sessions when offline).
func (r *runner) presence(ctx context.Context, c *client.Client, s notify.Status) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var err error
	if s == notify.Offline {
		err = c.SetUnavailable(ctx, "")
	} else {
		err = c.SetPresence(ctx, s.Show(), "", 0)
	}
	if err != nil {
		r.log.Info("setting the presence", "err", err)
	}
}

// applyTheme applies the theme setting. Fyne thread.
func (r *runner) applyTheme() {
	r.mu.Lock()
	t := r.settings.Theme
	r.mu.Unlock()
	switch t {
	case settings.ThemeLight:
		r.app.Settings().SetTheme(theme.NewVariant(fynetheme.VariantLight))
	case settings.ThemeDark:
		r.app.Settings().SetTheme(theme.NewVariant(fynetheme.VariantDark))
	default:
		r.app.Settings().SetTheme(theme.New())
	}
}

// settingsAccounts lists the accounts for the settings screen. Fyne
// thread (reads the model and the engines).
func (r *runner) settingsAccounts(states []model.Account) []settings.Account {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []settings.Account
	for _, a := range states {
		out = append(out, settings.Account{ID: a.ID, JID: a.JID.String(), Enabled: r.engines[a.ID] != nil, State: a.State})
	}
	return out
}

// openSettings opens the settings window, or brings it forward. Fyne
// thread.
func (r *runner) openSettings() {
	if r.setWin != nil {
		r.setWin.RequestFocus()
		return
	}
	w := r.app.NewWindow("Tern settings")
	r.mu.Lock()
	s := r.settings
	r.mu.Unlock()
	r.setScreen = settings.New(s, r.settingsAccounts(r.model.Accounts()), settings.Actions{
		Changed:    r.changeSettings,
		AddAccount: r.openAddAccount,
		SetEnabled: r.setEnabled,
		Remove:     r.removeAccount,
	}, w)
	w.SetContent(r.setScreen.Content())
	w.Resize(fyne.NewSize(560, 560))
	w.SetOnClosed(func() { r.setWin, r.setScreen = nil, nil })
	r.setWin = w
	w.Show()
}

// changeSettings applies and saves changed settings. Fyne thread.
func (r *runner) changeSettings(s settings.Settings) {
	r.mu.Lock()
	r.settings = s
	clients := r.clients()
	r.mu.Unlock()
	s.Save(r.prefs)
	r.applyTheme()
	r.center.SetSettings(notifySettings(s))
	for _, c := range clients {
		c.SetSendChatStates(s.SendTyping)
		c.SetSendReadMarkers(s.SendMarkers)
	}
	if r.main != nil {
		r.main.SetSendTyping(s.SendTyping)
	}
}

// setEnabled starts or stops an account and remembers it. Fyne thread.
func (r *runner) setEnabled(id client.AccountID, on bool) {
	r.goTask(func() {
		r.mu.Lock()
		b := r.backend
		r.mu.Unlock()
		if err := b.SetEnabled(r.ctx, id, on); err != nil {
			r.log.Warn("saving the account", "err", err)
		}
		if !on {
			r.stopEngine(id)
			return
		}
		accts, err := b.Accounts(r.ctx)
		if err != nil {
			r.log.Warn("reading the accounts", "err", err)
			return
		}
		for _, a := range accts {
			if a.ID == id {
				r.startEngine(a, "")
			}
		}
	})
}

// removeAccount stops and forgets an account. Fyne thread.
func (r *runner) removeAccount(id client.AccountID) {
	r.goTask(func() {
		r.mu.Lock()
		b := r.backend
		r.mu.Unlock()
		r.stopEngine(id)
		accts, err := b.Accounts(r.ctx)
		if err != nil {
			r.log.Warn("reading the accounts", "err", err)
			return
		}
		for _, a := range accts {
			if a.ID != id {
				continue
			}
			if err := b.RemoveAccount(r.ctx, a); err != nil {
				r.log.Warn("removing the account", "err", err)
				return
			}
			ch := r.model.RemoveAccount(id)
			r.do(func() {
				if r.main != nil {
					r.main.Apply(ch)
				}
				if r.setScreen != nil {
					r.setScreen.SetAccounts(r.settingsAccounts(ch.Accounts))
				}
			})
		}
	})
}

// prefDrafts keeps the composer's drafts in the app's preferences, under
// draft.<conversation id>.
type prefDrafts struct{ p fyne.Preferences }

func draftKey(conv client.ConversationID) string {
	return "draft." + strconv.FormatInt(int64(conv), 10)
}

// Draft implements chat.DraftStore.
func (d prefDrafts) Draft(_ context.Context, conv client.ConversationID) (string, error) {
	return d.p.String(draftKey(conv)), nil
}

// SetDraft implements chat.DraftStore.
func (d prefDrafts) SetDraft(_ context.Context, conv client.ConversationID, text string) error {
	if text == "" {
		d.p.RemoveValue(draftKey(conv))
		return nil
	}
	d.p.SetString(draftKey(conv), text)
	return nil
}

// openAddAccount opens a window to sign in to (or create) another
// account. Fyne thread.
func (r *runner) openAddAccount() {
	if r.addWin != nil {
		r.addWin.RequestFocus()
		return
	}
	w := r.app.NewWindow("Add an account")
	var signIn *account.SignIn
	var reg *account.Register
	var err error
	signIn, err = account.NewSignIn(r.ctx, account.SignInOptions{
		Connect:    r.signIn,
		OnSignedIn: func(string) { r.closeAddAccount() },
		OnCreate:   func() { w.SetContent(reg.Content()) },
		Intro:      "Add another XMPP account.",
		Logger:     r.log,
	})
	if err != nil {
		return
	}
	reg, err = account.NewRegister(r.ctx, account.RegisterOptions{
		Register:     r.register,
		OnRegistered: func(string) { r.closeAddAccount() },
		OnBack:       func() { w.SetContent(signIn.Content()) },
		Logger:       r.log,
	})
	if err != nil {
		return
	}
	r.screens = append(r.screens, signIn, reg)
	r.waits = append(r.waits, signIn.Wait, reg.Wait)
	w.SetContent(signIn.Content())
	w.Resize(fyne.NewSize(520, 600))
	w.SetOnClosed(func() { r.addWin = nil })
	r.addWin = w
	w.Show()
}

// closeAddAccount closes the add-account window when it is open. Fyne
// thread.
func (r *runner) closeAddAccount() {
	if r.addWin != nil {
		w := r.addWin
		r.addWin = nil
		w.Close()
	}
}

// userError is the text shown for an error that stops Tern from opening.
func userError(err error) string {
	msg := err.Error()
	if msg == "" {
		return "Unknown error."
	}
	return strings.ToUpper(msg[:1]) + msg[1:]
}
