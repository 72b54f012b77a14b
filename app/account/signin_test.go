package account_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tern-im/tern/app/account"
	"github.com/tern-im/tern/app/widgets"
)

// call is one Connect call as the fake engine saw it.
type call struct {
	ctx                   context.Context
	jid, password, server string
	reply                 chan<- result
}

type result struct {
	err error
}

// fakeEngine returns a Connect that hands every call to the test and
// returns what the test replies.
func fakeEngine() (account.ConnectFunc, <-chan call) {
	calls := make(chan call)
	connect := func(ctx context.Context, jid, password, server string) error {
		reply := make(chan result, 1)
		calls <- call{ctx: ctx, jid: jid, password: password, server: server, reply: reply}
		r := <-reply
		return r.err
	}
	return connect, calls
}

// screen is a sign-in screen in a headless window, with its widgets found
// the way a user finds them: by their visible texts.
type screen struct {
	t        *testing.T
	s        *account.SignIn
	win      fyne.Window
	address  *widget.Entry
	password *widget.Entry
	server   *widget.Entry
	signIn   *widget.Button
	cancel   *widget.Button
	progress *widget.ProgressBarInfinite
	status   *widget.Label
	advanced *widget.Button
	signedIn []string // OnSignedIn calls
}

func newScreen(t *testing.T, ctx context.Context, connect account.ConnectFunc) *screen {
	t.Helper()
	test.NewTempApp(t)
	sc := &screen{t: t}
	s, err := account.NewSignIn(ctx, account.SignInOptions{Connect: connect, OnSignedIn: func(a string) { sc.signedIn = append(sc.signedIn, a) }})
	if err != nil {
		t.Fatal(err)
	}
	win := test.NewTempWindow(t, s.Content())
	win.Resize(fyne.NewSize(520, 600))
	sc.s, sc.win = s, win
	var labels []*widget.Label
	for _, o := range test.LaidOutObjects(s.Content()) {
		switch w := o.(type) {
		case *widget.Entry:
			switch {
			case w.Password:
				sc.password = w
			case w.PlaceHolder == account.AddressPlaceholder:
				sc.address = w
			case w.PlaceHolder == account.ServerPlaceholder:
				sc.server = w
			}
		case *widget.Button:
			switch w.Text {
			case account.SignInLabel:
				sc.signIn = w
			case account.CancelLabel:
				sc.cancel = w
			case account.AdvancedLabel:
				sc.advanced = w
			}
		case *widgets.Progress:
			sc.progress = &w.ProgressBarInfinite
		case *widget.Label:
			labels = append(labels, w)
		}
	}
	// The status line is the centred label that starts hidden and wraps.
	for _, l := range labels {
		if !l.Visible() && l.Wrapping == fyne.TextWrapWord && l.Alignment == fyne.TextAlignCenter {
			sc.status = l
		}
	}
	for name, found := range map[string]bool{
		"address entry": sc.address != nil, "password entry": sc.password != nil,
		"server entry": sc.server != nil, "Sign in button": sc.signIn != nil,
		"Cancel button": sc.cancel != nil, "progress bar": sc.progress != nil,
		"status line": sc.status != nil, "Advanced button": sc.advanced != nil,
	} {
		if !found {
			t.Fatalf("sign-in screen has no %s", name)
		}
	}
	t.Cleanup(s.Wait)
	return sc
}

// fill types into the form like a user; server opens Advanced first.
func (sc *screen) fill(address, password, server string) {
	test.Type(sc.address, address)
	test.Type(sc.password, password)
	if server != "" {
		sc.openAdvanced()
		test.Type(sc.server, server)
	}
}

// openAdvanced taps Advanced and checks that the server field appears.
func (sc *screen) openAdvanced() {
	sc.t.Helper()
	if sc.visible(sc.server) {
		sc.t.Fatal("server field shown before Advanced was tapped")
	}
	test.Tap(sc.advanced)
	if !sc.visible(sc.server) {
		sc.t.Fatal("server field still hidden after tapping Advanced")
	}
}

// visible reports whether o is on screen: it and every object above it
// in the screen's tree are shown.
func (sc *screen) visible(o fyne.CanvasObject) bool {
	var walk func(fyne.CanvasObject) bool
	walk = func(n fyne.CanvasObject) bool {
		if n == nil || !n.Visible() {
			return false
		}
		if n == o {
			return true
		}
		var kids []fyne.CanvasObject
		switch c := n.(type) {
		case *fyne.Container:
			kids = c.Objects
		case fyne.Widget:
			kids = test.WidgetRenderer(c).Objects()
		}
		for _, k := range kids {
			if walk(k) {
				return true
			}
		}
		return false
	}
	return walk(sc.s.Content())
}

// wantStatus checks the status line's text and importance.
func (sc *screen) wantStatus(text string, importance widget.Importance) {
	sc.t.Helper()
	if !sc.status.Visible() {
		sc.t.Fatalf("status line hidden, want %q", text)
	}
	if !strings.Contains(sc.status.Text, text) {
		sc.t.Errorf("status = %q, want it to contain %q", sc.status.Text, text)
	}
	if sc.status.Importance != importance {
		sc.t.Errorf("status importance = %v, want %v", sc.status.Importance, importance)
	}
}

// wantIdle checks the form is editable again after an attempt.
func (sc *screen) wantIdle() {
	sc.t.Helper()
	if sc.signIn.Disabled() || sc.address.Disabled() || sc.password.Disabled() || sc.server.Disabled() {
		sc.t.Error("form still disabled after the attempt ended")
	}
	if sc.progress.Visible() || sc.cancel.Visible() {
		sc.t.Error("progress or Cancel still shown after the attempt ended")
	}
}

func TestSignInCallsConnectWithTypedValuesAndShowsError(t *testing.T) {
	connect, calls := fakeEngine()
	sc := newScreen(t, t.Context(), connect)
	sc.fill("  juliet@capulet.example ", "r0m30 & more", "xmpp.capulet.example:5223")
	test.Tap(sc.signIn)

	c := <-calls
	if c.jid != "juliet@capulet.example" || c.password != "r0m30 & more" || c.server != "xmpp.capulet.example:5223" {
		t.Errorf("Connect(%q, %q, %q), want the typed values (address trimmed)", c.jid, c.password, c.server)
	}
	// While Connect runs: progress and Cancel, nothing editable.
	if !sc.progress.Visible() || !sc.cancel.Visible() {
		t.Error("no progress or Cancel while signing in")
	}
	if !sc.signIn.Disabled() || !sc.address.Disabled() || !sc.password.Disabled() {
		t.Error("form editable while signing in")
	}
	sc.wantStatus("Signing in as juliet@capulet.example", widget.MediumImportance)

	c.reply <- result{err: errors.New("host-unknown: the server does not serve capulet.example")}
	sc.s.Wait()
	sc.wantStatus("Could not sign in: host-unknown: the server does not serve capulet.example", widget.DangerImportance)
	sc.wantIdle()
}

func TestSignInReportsSuccess(t *testing.T) {
	connect, calls := fakeEngine()
	sc := newScreen(t, t.Context(), connect)
	sc.fill("romeo@montague.example", "secret", "")
	// Enter in the password field signs in too.
	sc.password.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})

	c := <-calls
	if c.server != "" {
		t.Errorf("server = %q, want empty (look it up)", c.server)
	}
	if c.jid != "romeo@montague.example" || c.password != "secret" {
		t.Errorf("Connect(%q, %q), want romeo@montague.example, secret", c.jid, c.password)
	}
	c.reply <- result{}
	sc.s.Wait()
	sc.wantStatus("Signed in as romeo@montague.example.", widget.SuccessImportance)
	sc.wantIdle()
	if len(sc.signedIn) != 1 || sc.signedIn[0] != "romeo@montague.example" {
		t.Errorf("OnSignedIn calls = %q, want [romeo@montague.example]", sc.signedIn)
	}
	if sc.password.Text != "" {
		t.Error("the password stays in the form after signing in")
	}
}

func TestCancelStopsTheAttempt(t *testing.T) {
	connect, calls := fakeEngine()
	sc := newScreen(t, t.Context(), connect)
	sc.fill("romeo@montague.example", "secret", "")
	test.Tap(sc.signIn)

	c := <-calls
	test.Tap(sc.cancel)
	<-c.ctx.Done() // Cancel reached Connect's context
	c.reply <- result{err: c.ctx.Err()}
	sc.s.Wait()
	sc.wantStatus("Sign-in cancelled.", widget.MediumImportance)
	sc.wantIdle()
}

func TestClosingTheScreenCancelsConnect(t *testing.T) {
	connect, calls := fakeEngine()
	ctx, cancel := context.WithCancel(t.Context())
	sc := newScreen(t, ctx, connect)
	sc.fill("romeo@montague.example", "secret", "")
	test.Tap(sc.signIn)

	c := <-calls
	cancel()
	<-c.ctx.Done()
	c.reply <- result{err: c.ctx.Err()}
	sc.s.Wait() // returns: the goroutine is gone
}

func TestSignInValidatesBeforeConnecting(t *testing.T) {
	tests := []struct {
		name, address, password, server, want string
	}{
		{"no address", "", "secret", "", "Enter your address"},
		{"no at sign", "romeo", "secret", "", "should look like name@example.org"},
		{"no local part", "@montague.example", "secret", "", "should look like name@example.org"},
		{"space inside", "romeo @montague.example", "secret", "", "should look like name@example.org"},
		{"no password", "romeo@montague.example", "", "", "Enter your password"},
		{"server without port", "romeo@montague.example", "secret", "xmpp.montague.example", "server should look like"},
		{"server port zero", "romeo@montague.example", "secret", "xmpp.montague.example:0", "server should look like"},
		{"server port too big", "romeo@montague.example", "secret", "xmpp.montague.example:70000", "server should look like"},
		{"server without host", "romeo@montague.example", "secret", ":5222", "server should look like"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			connect := func(context.Context, string, string, string) error {
				t.Error("Connect called for an invalid form")
				return nil
			}
			sc := newScreen(t, t.Context(), connect)
			sc.fill(tt.address, tt.password, tt.server)
			test.Tap(sc.signIn)
			sc.s.Wait()
			sc.wantStatus(tt.want, widget.DangerImportance)
			sc.wantIdle()
		})
	}
}

func TestSignInAcceptsIPv6Server(t *testing.T) {
	connect, calls := fakeEngine()
	sc := newScreen(t, t.Context(), connect)
	sc.fill("romeo@montague.example", "secret", "[::1]:5222")
	test.Tap(sc.signIn)
	c := <-calls
	if c.server != "[::1]:5222" {
		t.Errorf("server = %q, want [::1]:5222", c.server)
	}
	c.reply <- result{err: errors.New("refused")}
	sc.s.Wait()
}

func TestSignInScreenRenders(t *testing.T) {
	connect, _ := fakeEngine()
	sc := newScreen(t, t.Context(), connect)
	test.AssertRendersToMarkup(t, "signin.xml", sc.win.Canvas())
}

func TestNewSignInNeedsConnect(t *testing.T) {
	test.NewTempApp(t)
	if _, err := account.NewSignIn(t.Context(), account.SignInOptions{}); !errors.Is(err, account.ErrNoConnect) {
		t.Fatalf("NewSignIn without Connect: err = %v, want ErrNoConnect", err)
	}
}

func TestAdvancedShowsAndHidesServer(t *testing.T) {
	connect, _ := fakeEngine()
	sc := newScreen(t, t.Context(), connect)
	sc.openAdvanced()
	test.Tap(sc.advanced)
	if sc.visible(sc.server) {
		t.Error("server field still shown after tapping Advanced again")
	}
}

func TestClosedScreenIgnoresLateResults(t *testing.T) {
	connect, calls := fakeEngine()
	sc := newScreen(t, t.Context(), connect)
	sc.fill("romeo@montague.example", "secret", "")
	test.Tap(sc.signIn)

	c := <-calls
	sc.s.Close()
	c.reply <- result{err: errors.New("too late")}
	sc.s.Wait()
	// The screen still shows the attempt: the late result was dropped.
	sc.wantStatus("Signing in as romeo@montague.example", widget.MediumImportance)
}

// TestIdleScreenAnimatesNothing: a hidden infinite progress bar must not
// run its animation (Fyne starts it whenever the bar's renderer is made,
// hidden or not), which would repaint the window 60 times a second.
func TestIdleScreenAnimatesNothing(t *testing.T) {
	connect, calls := fakeEngine()
	sc := newScreen(t, t.Context(), connect)
	if sc.progress.Visible() || sc.progress.Running() {
		t.Fatalf("idle sign-in screen: progress bar visible %v, running %v", sc.progress.Visible(), sc.progress.Running())
	}
	sc.fill("juliet@capulet.lit", "s3cret", "")
	test.Tap(sc.signIn)
	c := <-calls
	if !sc.progress.Visible() || !sc.progress.Running() {
		t.Errorf("signing in: progress bar visible %v, running %v", sc.progress.Visible(), sc.progress.Running())
	}
	c.reply <- result{err: errors.New("no")}
	sc.s.Wait()
	if sc.progress.Visible() || sc.progress.Running() {
		t.Errorf("after the attempt: progress bar visible %v, running %v", sc.progress.Visible(), sc.progress.Running())
	}
}
