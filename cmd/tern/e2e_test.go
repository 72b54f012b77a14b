package main

// The end-to-end test of issue 7: the real Tern binary, in a real X server
// (Xvfb) with a private D-Bus session, GNOME Keyring as the Secret Service
// and dunst as the notification daemon (scripts/testenv.sh), signs in to a
// private Prosody by keyboard input (xdotool), receives an OMEMO message
// from a second account driven from Go with protocol/client and
// crypto/omemo, shows it (window title with the unread count,
// screenshots), notifies it (dunst history), stores it decrypted (the
// SQLite file, read after Tern quit), and replies through real keyboard
// input, which the second account receives and decrypts. It also opens
// the search, contacts, encryption and quick-switcher screens by their
// shortcuts and the settings window, keeps a draft across a restart, and
// takes screenshots of them all (dark theme, then light).
//
// Outside the test environment (no DISPLAY or session bus) the test runs
// itself again under scripts/testenv.sh. Screenshots go to $TERN_ARTIFACTS
// when set, else to an artifacts directory under the test's temporary
// directory; the path is logged.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tern-im/tern/cmd/internal/profile"
	"github.com/tern-im/tern/crypto/omemo"
	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/session"
	"github.com/tern-im/tern/protocol/xmpptest"
	"github.com/tern-im/tern/storage/keyring"
	"github.com/tern-im/tern/storage/sqlite"
)

// e2eTimeout bounds each wait of the end-to-end test.
const e2eTimeout = 90 * time.Second

// inTestEnv reports whether the test runs with an X display and a session
// bus, as scripts/testenv.sh provides.
func inTestEnv() bool {
	return os.Getenv("DISPLAY") != "" && os.Getenv("DBUS_SESSION_BUS_ADDRESS") != ""
}

// rerunInTestEnv runs this test binary's test (or benchmark, once) again
// under scripts/testenv.sh and fails t when that run fails.
func rerunInTestEnv(t testing.TB) {
	t.Helper()
	script, err := filepath.Abs(filepath.Join(root, "scripts", "testenv.sh"))
	if err != nil {
		t.Fatal(err)
	}
	args := []string{os.Args[0], "-test.run", "^" + t.Name() + "$", "-test.v", "-test.timeout", "20m"}
	if _, ok := t.(*testing.B); ok {
		args = []string{os.Args[0], "-test.run", "^$", "-test.bench", "^" + t.Name() + "$", "-test.benchtime", "1x", "-test.v", "-test.timeout", "20m"}
	}
	cmd := exec.CommandContext(t.Context(), script, args...)
	cmd.Env = append(os.Environ(), "TERN_E2E_CHILD=1")
	out, err := cmd.CombinedOutput()
	t.Logf("under scripts/testenv.sh:\n%s", out)
	if err != nil {
		t.Fatalf("scripts/testenv.sh %s: %v", t.Name(), err)
	}
}

// needTools fails t when a program the test drives is missing.
func needTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: run `make deps` (scripts/deps.sh installs it)", tool)
		}
	}
}

// buildBinary builds the package in dir into the test's temporary
// directory and returns the binary's path.
func buildBinary(t testing.TB, pkg, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, pkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// artifacts returns the directory for screenshots.
func artifacts(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("TERN_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(t.TempDir(), "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// logLine is one line Tern wrote to standard error, with when it came.
type logLine struct {
	at   time.Time
	text string
}

// proc is a running Tern.
type proc struct {
	t     testing.TB
	cmd   *exec.Cmd
	start time.Time
	done  chan struct{} // closed when the process has exited
	err   error         // Wait's result, set before done is closed

	mu    sync.Mutex // guards lines and more
	lines []logLine
	more  chan struct{} // closed and replaced at every line
}

// startTern starts bin with env added to the environment.
func startTern(t testing.TB, bin string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, cmd: exec.Command(bin, args...), done: make(chan struct{}), more: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go p.read(stderr)
	t.Cleanup(func() { p.quit() })
	return p
}

// read collects standard error until it closes, then waits for the
// process.
func (p *proc) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		p.mu.Lock()
		p.lines = append(p.lines, logLine{at: time.Now(), text: sc.Text()})
		close(p.more)
		p.more = make(chan struct{})
		p.mu.Unlock()
	}
	p.err = p.cmd.Wait()
	close(p.done)
}

// waitLine waits for a line containing every one of parts and returns
// when it came.
func (p *proc) waitLine(parts ...string) logLine {
	p.t.Helper()
	timeout := time.After(e2eTimeout)
	for i := 0; ; {
		p.mu.Lock()
		lines, more := p.lines, p.more
		p.mu.Unlock()
		for ; i < len(lines); i++ {
			ok := true
			for _, part := range parts {
				ok = ok && strings.Contains(lines[i].text, part)
			}
			if ok {
				return lines[i]
			}
		}
		select {
		case <-more:
		case <-p.done:
			p.t.Fatalf("tern exited (%v) before logging %q; its log:\n%s", p.err, parts, p.log())
		case <-timeout:
			p.t.Fatalf("tern did not log %q within %s; its log:\n%s", parts, e2eTimeout, p.log())
		}
	}
}

// log returns everything Tern logged.
func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, l := range p.lines {
		b.WriteString(l.text)
		b.WriteByte('\n')
	}
	return b.String()
}

// quit asks Tern to quit (SIGTERM: Fyne's driver quits the app) and waits
// for it; it kills it after a grace period.
func (p *proc) quit() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.t.Errorf("tern did not quit within 20 s of SIGTERM; killing it")
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// x runs an X tool and returns its trimmed output.
func x(t testing.TB, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("%s %q: %v: %s", name, args, err, ee.Stderr)
		}
		t.Fatalf("%s %q: %v", name, args, err)
	}
	return strings.TrimSpace(string(out))
}

// findWindow polls for a visible window whose name matches the regular
// expression name and returns its id.
func findWindow(t testing.TB, name string, within time.Duration) string {
	t.Helper()
	id, ok := waitWindow(t, name, within)
	if !ok {
		t.Fatalf("no visible window named %q within %s", name, within)
	}
	return id
}

// waitWindow polls for a visible window whose name matches the regular
// expression name and returns its id; false when none came within the
// time given.
func waitWindow(t testing.TB, name string, within time.Duration) (string, bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		out, err := exec.CommandContext(t.Context(), "xdotool", "search", "--onlyvisible", "--name", name).Output()
		if id := strings.Fields(string(out)); err == nil && len(id) > 0 {
			return id[0], true
		}
		if time.Now().After(deadline) {
			return "", false
		}
		pollPause()
	}
}

// pollPause waits a little between polls of an external program (there
// is no event to wait on for an X window or a notification daemon).
func pollPause() {
	<-time.After(20 * time.Millisecond)
}

// screenshot writes the whole screen to dir/name.png.
func screenshot(t testing.TB, dir, name string) {
	t.Helper()
	x(t, "import", "-window", "root", filepath.Join(dir, name+".png"))
}

// geometry returns a window's position and size.
func geometry(t testing.TB, win string) (px, py, w, h int) {
	t.Helper()
	out := x(t, "xdotool", "getwindowgeometry", "--shell", win)
	vals := map[string]int{}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if n, err := strconv.Atoi(v); ok && err == nil {
			vals[k] = n
		}
	}
	return vals["X"], vals["Y"], vals["WIDTH"], vals["HEIGHT"]
}

// click clicks at (cx, cy) relative to window win: the pointer moves
// there first, in two steps, so that the toolkit sees it arrive.
func click(t testing.TB, win string, cx, cy int) {
	t.Helper()
	x(t, "xdotool", "mousemove", "--sync", "--window", win, strconv.Itoa(cx+1), strconv.Itoa(cy+1))
	x(t, "xdotool", "mousemove", "--sync", "--window", win, strconv.Itoa(cx), strconv.Itoa(cy), "sleep", "0.1",
		"mousedown", "1", "sleep", "0.05", "mouseup", "1")
}

// typeText types s into the focused window like a keyboard.
func typeText(t testing.TB, s string) {
	t.Helper()
	x(t, "xdotool", "type", "--delay", "15", s)
}

// key presses keys (xdotool key names).
func key(t testing.TB, keys ...string) {
	t.Helper()
	x(t, "xdotool", append([]string{"key", "--delay", "60"}, keys...)...)
}

// peer is the second account, driven from Go.
type peer struct {
	c        *client.Client
	received chan client.Message
	online   chan struct{}
	// stop disconnects it and waits for its engine (also done at cleanup).
	stop func()
}

// startPeer connects local@domain with a store of its own and collects the
// messages it receives; with e2ee it has an OMEMO device (crypto/omemo,
// as Tern and tern-cli wire it) and encrypts when the peer has devices.
func startPeer(t testing.TB, srv *xmpptest.Server, local, password string, e2ee bool) *peer {
	t.Helper()
	ctx := t.Context()
	var db *sqlite.DB
	var err error
	path := filepath.Join(t.TempDir(), local+".db")
	if e2ee {
		// OMEMO keys are sealed at rest with a data key in the keyring,
		// as in Tern and tern-cli.
		kr := keyring.New(keyring.Options{Service: "im.tern.e2e.peer." + local + "." + strconv.FormatInt(time.Now().UnixNano(), 36)})
		t.Cleanup(func() { _ = kr.Close(context.Background()) })
		var key *keyring.DataKey
		db, key, err = profile.Open(ctx, profile.Options{Path: path, Keyring: kr})
		if err == nil {
			t.Cleanup(key.Destroy)
		}
	} else {
		db, err = sqlite.Open(ctx, path, sqlite.Options{})
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	addr := jid.MustParse(local + "@" + srv.Domain)
	var id client.AccountID
	if err := db.Update(ctx, func(tx client.Tx) error {
		var err error
		id, err = tx.PutAccount(ctx, client.Account{JID: addr, Enabled: true})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	tlsCfg, err := profile.TLSConfig(srv.CA.File())
	if err != nil {
		t.Fatal(err)
	}
	cfg := client.Config{
		Session:     session.Config{JID: addr, Password: password, Server: srv.Addr(), TLS: tlsCfg},
		NetworkPoll: -1,
		Store:       db,
		Account:     id,
	}
	if e2ee {
		cfg.E2EE = omemo.NewE2EE(omemo.New(id, addr, omemo.Options{}))
	}
	c := client.New(cfg)
	p := &peer{c: c, received: make(chan client.Message, 16), online: make(chan struct{})}
	// Online hooks run in registration order: this one runs after the
	// features' (registered by client.New), OMEMO's device set-up
	// included, so the peer is ready to send when it runs.
	var once sync.Once
	c.OnOnline(func(context.Context, session.Info) { once.Do(func() { close(p.online) }) })
	runCtx, stop := context.WithCancel(context.Background())
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		_ = c.Run(runCtx)
	}()
	go func() {
		for ev := range c.Events() {
			if e, ok := ev.(client.MessageReceived); ok && e.Message.Direction == client.Inbound {
				select {
				case p.received <- e.Message:
				default:
				}
			}
		}
	}()
	p.stop = sync.OnceFunc(func() {
		stop()
		<-runDone
	})
	t.Cleanup(p.stop)
	select {
	case <-p.online:
	case <-time.After(e2eTimeout):
		t.Fatalf("%s did not come online", addr)
	}
	return p
}

// waitDevices waits until p sees an OMEMO device of owner (published
// when owner's engine came online; the list is fetched again while it
// does not exist).
func waitDevices(t testing.TB, p *peer, owner jid.JID) {
	t.Helper()
	deadline := time.Now().Add(e2eTimeout)
	for {
		devs, err := p.c.Devices(t.Context(), owner)
		if err == nil && len(devs) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no OMEMO device of %s within %s (last error: %v)", owner, e2eTimeout, err)
		}
		pollPause()
	}
}

// dunstHistory returns dunst's notification history (dunstctl history).
func dunstHistory(t testing.TB) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "dunstctl", "history").Output()
	if err != nil {
		return ""
	}
	return string(out)
}

// notifiedBy reports whether dunst's history has a notification whose
// summary is sender, and returns its body.
func notifiedBy(history, sender string) (string, bool) {
	var h struct {
		Data [][]struct {
			Summary struct{ Data string } `json:"summary"`
			Body    struct{ Data string } `json:"body"`
			AppName struct{ Data string } `json:"appname"`
		} `json:"data"`
	}
	if json.Unmarshal([]byte(history), &h) != nil {
		return "", false
	}
	for _, group := range h.Data {
		for _, n := range group {
			if n.Summary.Data == sender {
				return n.Body.Data, true
			}
		}
	}
	return "", false
}

func TestEndToEnd(t *testing.T) {
	if !inTestEnv() {
		if os.Getenv("TERN_E2E_CHILD") != "" {
			t.Fatal("scripts/testenv.sh gave no DISPLAY or session bus")
		}
		rerunInTestEnv(t)
		return
	}
	needTools(t, "xdotool", "dunst", "dunstctl", "import", "prosody")
	shots := artifacts(t)
	bin := buildBinary(t, ".", "tern")

	srv := xmpptest.StartProsody(t, xmpptest.Options{})
	srv.CreateAccount(t, "alice", "alice-secret")
	srv.CreateAccount(t, "bob", "bob-secret")
	alice := "alice@" + srv.Domain
	bobJID := "bob@" + srv.Domain

	home := t.TempDir()
	dbPath := filepath.Join(home, "tern.db")
	service := "im.tern.Tern.e2e." + strconv.FormatInt(time.Now().UnixNano(), 36)
	env := []string{
		"TERN_DB=" + dbPath,
		"TERN_CA_FILE=" + srv.CA.File(),
		"TERN_KEYRING_SERVICE=" + service,
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
	}

	// First start: the sign-in screen, the address field focused.
	tern := startTern(t, bin, env, "-debug")
	tern.waitLine("screen shown", "screen="+"signin")
	win := findWindow(t, "^Tern$", e2eTimeout)
	x(t, "xdotool", "windowfocus", "--sync", win)
	typeText(t, alice)
	key(t, "Tab")
	typeText(t, "alice-secret")
	// Tab reaches Advanced (the server field is hidden) and Space opens
	// it; the server field then sits just below the window's centre (the
	// form is a centred column).
	key(t, "Tab", "space")
	_, _, w, h := geometry(t, win)
	click(t, win, w/2+40, h/2+49)
	typeText(t, srv.Addr())
	screenshot(t, shots, "1-signin")
	key(t, "Return")

	tern.waitLine("screen shown", "screen=main")
	tern.waitLine("account online", "jid="+alice)
	screenshot(t, shots, "2-main")

	// The window loses the focus to another one (there is no window
	// manager under Xvfb to do it).
	other := exec.CommandContext(t.Context(), "xmessage", "-geometry", "+0+0", "-title", "other-window", "another window")
	if err := other.Start(); err != nil {
		t.Fatalf("xmessage: %v", err)
	}
	t.Cleanup(func() { _ = other.Process.Kill(); _ = other.Wait() })
	x(t, "xdotool", "windowfocus", findWindow(t, "^other-window$", e2eTimeout))
	tern.waitLine("window focus", "focused=false")

	// Bob has an OMEMO device; Tern published Alice's when it came online,
	// so his message is encrypted (the engine's default where the peer
	// has devices).
	bob := startPeer(t, srv, "bob", "bob-secret", true)
	waitDevices(t, bob, jid.MustParse(alice))
	const hello = "Hello Alice, this is Bob"
	if _, err := bob.c.SendMessage(t.Context(), jid.MustParse(alice), hello, client.SendOptions{}); err != nil {
		t.Fatalf("bob sends: %v", err)
	}

	// Shown: the unread count reaches the window title.
	findWindow(t, `^\(1\) Tern$`, e2eTimeout)
	screenshot(t, shots, "3-received")

	// Notified: dunst's history names the sender, with the text.
	deadline := time.Now().Add(e2eTimeout)
	for {
		body, ok := notifiedBy(dunstHistory(t), bobJID)
		if ok {
			if !strings.Contains(body, hello) {
				t.Errorf("notification body %q, want it to contain %q", body, hello)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no notification from %s in dunst's history:\n%s\ntern's log:\n%s", bobJID, dunstHistory(t), tern.log())
		}
		pollPause()
	}

	// Reply through the keyboard: open the conversation (the first row of
	// the list), click the composer, type, Enter.
	win = findWindow(t, `Tern$`, e2eTimeout)
	x(t, "xdotool", "windowfocus", "--sync", win)
	_, _, w, h = geometry(t, win)
	tern.waitLine("window focus", "focused=true")
	reply := ""
	rowY, opened := openFirstConversation(t, win, w)
	if opened {
		screenshot(t, shots, "4-chat")
		click(t, win, w*2/3, h-28)
		reply = "Hi Bob, Alice here"
		typeText(t, reply)
		key(t, "Return")
		select {
		case m := <-bob.received:
			if m.Body != reply {
				t.Errorf("bob received %q, want %q", m.Body, reply)
			}
			if m.Encryption != client.EncryptionOMEMO {
				t.Errorf("bob received the reply with encryption %v, want OMEMO", m.Encryption)
			}
		case <-time.After(e2eTimeout):
			screenshot(t, shots, "failed-reply")
			t.Errorf("bob did not receive the reply; tern's log:\n%s", tern.log())
		}
		screenshot(t, shots, "5-replied")
	} else {
		t.Error("no click on the conversation list opened the conversation (the title keeps the unread count): mouse input does not reach the main screen's widgets")
	}

	// The screens over the chat view, by their keyboard shortcuts (the
	// composer has the focus and passes them on); Ctrl+W closes each.
	for _, s := range []struct{ keys, title, typed, shot string }{
		{"ctrl+f", "Search", "Hello", "7-search"},
		{"ctrl+shift+c", "Contacts", "", "8-contacts"},
		{"ctrl+shift+e", "Encryption", "", "9-devices"},
		{"ctrl+k", "Go to conversation", "bob", "10-switcher"},
	} {
		key(t, s.keys)
		tern.waitLine("overlay shown", "title="+slogText(s.title))
		if s.typed != "" {
			typeText(t, s.typed)
		}
		// The screens read the store and the server off the UI thread:
		// the shot waits for the next quiet frame.
		waitFrames(t)
		screenshot(t, shots, s.shot)
		key(t, "ctrl+w")
		tern.waitLine("overlay shown", `title=""`)
	}

	// Settings, in a window of its own.
	click(t, win, w-22, 22)
	if _, ok := waitWindow(t, "^Tern settings$", 10*time.Second); !ok {
		screenshot(t, shots, "failed-settings")
		t.Fatalf("the settings button opened no window; tern's log:\n%s", tern.log())
	}
	screenshot(t, shots, "11-settings")

	// A draft left in the composer survives a restart (Fyne preferences,
	// saved as Tern quits).
	const draft = "half a thought"
	if reply != "" {
		x(t, "xdotool", "windowfocus", "--sync", win)
		click(t, win, w*2/3, h-28)
		typeText(t, draft)
		waitFrames(t)
		screenshot(t, shots, "12-draft")
	}

	tern.quit()
	if tern.err != nil {
		t.Errorf("tern exited with %v; its log:\n%s", tern.err, tern.log())
	}

	// Stored: both messages are in the database, which opens with the data
	// key from the keyring.
	checkStored(t, dbPath, service, alice, bobJID, hello, reply)
	prefs := readPrefs(t, filepath.Join(home, "config"))
	if reply != "" && !slices.Contains(slices.Collect(maps.Values(prefs)), any(draft)) {
		t.Errorf("no draft %q in the preferences Tern saved: %v", draft, prefs)
	}

	// Again, in the light theme (the setting, as the settings screen
	// saves it): the main window and the conversation with its draft.
	prefs["appearance.theme"] = "light"
	writePrefs(t, filepath.Join(home, "config"), prefs)
	tern = startTern(t, bin, env, "-debug")
	tern.waitLine("screen drawn", "screen=main")
	win = findWindow(t, "^Tern$", e2eTimeout)
	x(t, "xdotool", "windowfocus", "--sync", win)
	screenshot(t, shots, "13-main-light")
	if opened {
		click(t, win, w/6, rowY)
		waitFrames(t)
		screenshot(t, shots, "14-chat-light")
	}
	tern.quit()
}

// prefsFile is where Fyne keeps Tern's preferences under config
// ($XDG_CONFIG_HOME).
func prefsFile(config string) string {
	return filepath.Join(config, "fyne", appID, "preferences.json")
}

// readPrefs reads the preferences Tern saved.
func readPrefs(t testing.TB, config string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(prefsFile(config))
	if err != nil {
		t.Fatalf("tern's preferences: %v", err)
	}
	prefs := map[string]any{}
	if err := json.Unmarshal(data, &prefs); err != nil {
		t.Fatalf("tern's preferences: %v", err)
	}
	return prefs
}

// writePrefs replaces the preferences (Tern is not running).
func writePrefs(t testing.TB, config string, prefs map[string]any) {
	t.Helper()
	data, err := json.Marshal(prefs)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(prefsFile(config), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// slogText is how slog's text handler writes the string value s.
func slogText(s string) string {
	if s == "" || strings.ContainsAny(s, " =\"") {
		return strconv.Quote(s)
	}
	return s
}

// waitFrames gives the window a few frames (at 60 per second) to show
// what the program did off its UI thread: there is no event to wait on
// from outside the process.
func waitFrames(t testing.TB) {
	t.Helper()
	for range 25 {
		pollPause()
	}
}

// openFirstConversation clicks down the conversation list (the left sixth
// of the window) until a conversation opens, which the window title shows,
// and returns the height it clicked at:
// opening the only unread conversation clears the unread count. Tern's
// layout above the list (bar, account states, filter) may change, so the
// test does not rely on its exact height.
func openFirstConversation(t testing.TB, win string, w int) (int, bool) {
	t.Helper()
	// From the filter box down: above it, the toolbar's buttons open
	// screens over the window.
	for y := 150; y < 420; y += 20 {
		click(t, win, w/6, y)
		deadline := time.Now().Add(time.Second)
		for time.Now().Before(deadline) {
			if out, _ := exec.CommandContext(t.Context(), "xdotool", "getwindowname", win).Output(); strings.TrimSpace(string(out)) == "Tern" {
				return y, true
			}
			pollPause()
		}
	}
	screenshot(t, artifacts(t), "failed-open")
	return 0, false
}

// checkStored opens Tern's database as Tern does and checks that the
// conversation of account with peer holds the inbound text, decrypted
// from OMEMO, and the outbound text (outbound "" is not checked).
func checkStored(t testing.TB, dbPath, service, account, peerJID, inbound, outbound string) {
	t.Helper()
	ctx := t.Context()
	kr := keyring.New(keyring.Options{Service: service})
	defer kr.Close(ctx)
	db, key, err := profile.Open(ctx, profile.Options{Path: dbPath, Keyring: kr})
	if err != nil {
		t.Fatalf("open tern's database: %v", err)
	}
	defer key.Destroy()
	defer db.Close()
	var accts []client.Account
	if err := db.View(ctx, func(tx client.Tx) error {
		var err error
		accts, err = tx.Accounts(ctx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(accts) != 1 || accts[0].JID.String() != account || accts[0].Server == "" || !accts[0].Enabled {
		t.Fatalf("stored accounts %+v, want %s with its server, enabled", accts, account)
	}
	if pw, err := kr.Password(ctx, accts[0].JID); err != nil || pw == "" {
		t.Errorf("keyring password of %s: %v", account, err)
	}
	convs, err := db.Conversations(ctx, accts[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, c := range convs {
		if c.Peer.String() != peerJID {
			continue
		}
		found = true
		msgs, err := db.LatestPage(ctx, c.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		var in, out bool
		for _, m := range msgs {
			in = in || (m.Direction == client.Inbound && m.Body == inbound && m.Encryption == client.EncryptionOMEMO)
			out = out || outbound == "" || (m.Direction == client.Outbound && m.Body == outbound)
		}
		if !in || !out {
			t.Errorf("stored messages %+v: inbound %q stored %v, outbound %q stored %v", msgs, inbound, in, outbound, out)
		}
	}
	if !found {
		t.Errorf("no stored conversation with %s: %+v", peerJID, convs)
	}
}
