package main

// These tests run the commands in-process against real servers (Prosody and
// ejabberd from protocol/xmpptest), real SQLite files and the real Secret
// Service that scripts/testenv.sh provides:
//
//	scripts/testenv.sh go test ./cmd/tern-cli/

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gokeyring "github.com/zalando/go-keyring"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/xmpptest"
	"github.com/tern-im/tern/storage/keyring"
	"github.com/tern-im/tern/storage/keyring/keyringtest"
	"github.com/tern-im/tern/storage/sqlite"
)

// stepTimeout bounds one command of a test.
const stepTimeout = 2 * time.Minute

// syncBuffer is a bytes.Buffer safe for the concurrent writers a command
// has (the engine's logger, the XML console).
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// profile is one user's tern-cli setup: a database, a keyring service of
// its own, and the test server's CA.
type profile struct {
	t       *testing.T
	srv     *xmpptest.Server
	db      string
	service string
	env     map[string]string
}

func newProfile(t *testing.T, srv *xmpptest.Server, service string) *profile {
	t.Helper()
	dir := t.TempDir()
	return &profile{
		t: t, srv: srv, db: filepath.Join(dir, "tern.db"), service: service,
		env: map[string]string{"TERN_KEYRING_SERVICE": service, "TERN_CA_FILE": srv.CA.File()},
	}
}

// testService returns a keyring service name of the test's own, and removes
// its entries at the end.
func testService(t *testing.T) string {
	t.Helper()
	keyringtest.RequireSecretService(t)
	service := "im.tern.Tern.test.cli." + strconv.FormatInt(time.Now().UnixNano(), 36)
	t.Cleanup(func() {
		if err := gokeyring.DeleteAll(service); err != nil && !errors.Is(err, gokeyring.ErrNotFound) {
			t.Errorf("remove the test's keyring entries: %v", err)
		}
	})
	return service
}

// result is what a command did.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return "exit " + strconv.Itoa(r.code) + "\nstdout:\n" + r.stdout + "stderr:\n" + r.stderr
}

// run runs tern-cli with --db set to the profile's database.
func (p *profile) run(stdin string, args ...string) result {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.t.Context(), stepTimeout)
	defer cancel()
	var out, errOut syncBuffer
	code := runEnv(ctx, p.getenv, append([]string{"--db", p.db}, args...), strings.NewReader(stdin), &out, &errOut)
	r := result{code, out.String(), errOut.String()}
	p.t.Logf("tern-cli %s\n%s", strings.Join(args, " "), r)
	return r
}

func (p *profile) getenv(k string) string { return p.env[k] }

// must runs a command that has to succeed.
func (p *profile) must(stdin string, args ...string) result {
	p.t.Helper()
	r := p.run(stdin, args...)
	if r.code != exitOK {
		p.t.Fatalf("tern-cli %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// fails runs a command that has to fail with code, with a one-line error
// on standard error containing each of contains.
func (p *profile) fails(code int, stdin string, args []string, contains ...string) result {
	p.t.Helper()
	r := p.run(stdin, args...)
	if r.code != code {
		p.t.Fatalf("tern-cli %s: want exit %d, got %s", strings.Join(args, " "), code, r)
	}
	if lines := strings.Count(strings.TrimRight(r.stderr, "\n"), "\n"); lines != 0 || !strings.HasPrefix(r.stderr, "tern-cli: ") {
		p.t.Errorf("the error is not one 'tern-cli: ' line:\n%s", r.stderr)
	}
	for _, s := range contains {
		if !strings.Contains(r.stderr, s) {
			p.t.Errorf("the error lacks %q: %s", s, r.stderr)
		}
	}
	return r
}

// addAccount stores an account with its password.
func (p *profile) addAccount(local, password string) jid.JID {
	p.t.Helper()
	addr := jid.MustParse(local + "@" + p.srv.Domain)
	r := p.must(password+"\n", "account", "add", "--jid", addr.String(), "--server", p.srv.Addr(), "--password-stdin")
	if !strings.Contains(r.stdout, "added "+addr.String()) {
		p.t.Fatalf("account add says %q", r.stdout)
	}
	return addr
}

// openDB opens the profile's database (while no command runs) with the
// data key the commands created.
func (p *profile) openDB() *sqlite.DB {
	p.t.Helper()
	info, err := keyring.ReadKeyInfoFile(p.db + ".keyinfo")
	if err != nil {
		p.t.Fatal(err)
	}
	k := keyring.New(keyring.Options{Service: p.service})
	defer k.Close(context.Background())
	key, err := k.OpenDataKey(p.t.Context(), info)
	if err != nil {
		p.t.Fatalf("open the data key: %v", err)
	}
	db, err := sqlite.Open(p.t.Context(), p.db, sqlite.Options{Sealer: key})
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { db.Close() })
	return db
}

// blocklist returns the stored block list of the only account.
func (p *profile) blocklist() []string {
	p.t.Helper()
	db := p.openDB()
	defer db.Close()
	var out []string
	err := db.View(p.t.Context(), func(tx client.Tx) error {
		accts, err := tx.Accounts(p.t.Context())
		if err != nil || len(accts) != 1 {
			return errors.Join(err, errors.New("want one account"))
		}
		list, err := tx.Blocklist(p.t.Context(), accts[0].ID)
		out = jidStrings(list)
		return err
	})
	if err != nil {
		p.t.Fatal(err)
	}
	return out
}

// listener is a running `tern-cli listen`.
type listener struct {
	t      *testing.T
	cancel context.CancelFunc
	lines  chan map[string]any
	done   chan int
	stderr *syncBuffer
	all    []map[string]any
}

// listen starts `tern-cli listen` and waits until it is online.
func (p *profile) listen(args ...string) *listener {
	p.t.Helper()
	ctx, cancel := context.WithCancel(p.t.Context())
	pr, pw := io.Pipe()
	l := &listener{t: p.t, cancel: cancel, lines: make(chan map[string]any, 1000), done: make(chan int, 1), stderr: &syncBuffer{}}
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				m = map[string]any{"event": "INVALID JSON", "line": sc.Text()}
			}
			l.lines <- m
		}
		close(l.lines)
	}()
	go func() {
		code := runEnv(ctx, p.getenv, append([]string{"--db", p.db, "listen"}, args...), strings.NewReader(""), pw, l.stderr)
		pw.Close()
		l.done <- code
	}()
	p.t.Cleanup(func() { l.stop() })
	l.next("online", nil)
	return l
}

// next returns the next event of kind for which match (nil: any) holds.
func (l *listener) next(kind string, match func(map[string]any) bool) map[string]any {
	l.t.Helper()
	timeout := time.After(stepTimeout)
	for {
		select {
		case m, ok := <-l.lines:
			if !ok {
				l.t.Fatalf("listen ended while waiting for %q; stderr: %s", kind, l.stderr.String())
			}
			l.all = append(l.all, m)
			if m["event"] == "INVALID JSON" {
				l.t.Errorf("listen printed a line that is not JSON: %v", m["line"])
			}
			if m["event"] == "failed" {
				l.t.Fatalf("listen: %v", m)
			}
			if m["event"] == kind && (match == nil || match(m)) {
				return m
			}
		case <-timeout:
			l.t.Fatalf("no %q event; stderr: %s", kind, l.stderr.String())
		}
	}
}

// stop interrupts listen and checks that it ends cleanly; it returns every
// event printed.
func (l *listener) stop() []map[string]any {
	if l.cancel == nil {
		return l.all
	}
	l.cancel()
	l.cancel = nil
	select {
	case code := <-l.done:
		if code != exitOK {
			l.t.Errorf("listen exited %d after an interrupt; stderr: %s", code, l.stderr.String())
		}
	case <-time.After(stepTimeout):
		l.t.Fatal("listen did not stop after its context ended")
	}
	for m := range l.lines {
		l.all = append(l.all, m)
	}
	return l.all
}

func body(m map[string]any) string { s, _ := m["body"].(string); return s }

var starters = []struct {
	name  string
	start func(testing.TB, xmpptest.Options) *xmpptest.Server
}{
	{"prosody", xmpptest.StartProsody},
	{"ejabberd", xmpptest.StartEjabberd},
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestAccounts: account add verifies the credentials and stores the
// password in the keyring (never in the database), list shows it, remove
// deletes it and its password; wrong passwords, bad usage and unreachable
// servers give their exit codes.
func TestAccounts(t *testing.T) {
	srv := xmpptest.StartProsody(t, xmpptest.Options{})
	const pw = "alice's pässword 1234"
	srv.CreateAccount(t, "alice", pw)
	service := testService(t)
	p := newProfile(t, srv, service)
	alice := jid.MustParse("alice@" + srv.Domain)
	k := keyring.New(keyring.Options{Service: service})
	t.Cleanup(func() { k.Close(context.Background()) })

	p.fails(exitAuth, "wrong password\n", []string{"account", "add", "--jid", alice.String(), "--server", srv.Addr(), "--password-stdin"}, "password")
	p.fails(exitNetwork, pw+"\n", []string{"account", "add", "--jid", alice.String(), "--server", closedAddr(t), "--password-stdin"})
	p.fails(exitCert, pw+"\n", []string{"account", "add", "--jid", alice.String(), "--server", srv.Addr(), "--password-stdin",
		"--ca-file", xmpptest.NewCA(t).File()}, "certificate")
	if r := p.must("", "account", "list", "--json"); r.stdout != "" {
		t.Fatalf("failed adds stored an account: %s", r.stdout)
	}
	if _, err := k.Password(t.Context(), alice); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("failed adds stored a password: %v", err)
	}

	p.addAccount("alice", pw)
	if got, err := k.Password(t.Context(), alice); err != nil || got != pw {
		t.Fatalf("keyring password after account add: %v", err)
	}
	info, err := keyring.ReadKeyInfoFile(p.db + ".keyinfo")
	if err != nil || info.Source != keyring.SourceKeyring {
		t.Fatalf("key info next to the database: %+v, %v", info, err)
	}
	p.fails(exitFailure, pw+"\n", []string{"account", "add", "--jid", alice.String(), "--password-stdin"}, "already stored")

	r := p.must("", "account", "list", "--json")
	var listed accountJSON
	if err := json.Unmarshal([]byte(r.stdout), &listed); err != nil || listed.JID != alice.String() || listed.Server != srv.Addr() || !listed.Enabled {
		t.Fatalf("account list --json: %q (%v)", r.stdout, err)
	}
	if r := p.must("", "account", "list"); !strings.Contains(r.stdout, alice.String()) || !strings.Contains(r.stdout, srv.Addr()) {
		t.Fatalf("account list: %q", r.stdout)
	}
	// The password comes from the keyring: a command that connects needs
	// nothing on stdin.
	p.must("", "roster")
	// A wrong password given explicitly is refused by the server.
	p.fails(exitAuth, "nope\n", []string{"roster", "--password-stdin"}, "password")
	keyringtest.AssertNoSecrets(t, []string{filepath.Dir(p.db)}, [][]byte{[]byte(pw)})

	// Usage errors.
	for _, args := range [][]string{
		{"account"}, {"account", "frob"}, {"account", "add"}, {"account", "add", "--jid", "a@@b"},
		{"account", "remove"}, {"send", "--body", "x"}, {"send", "--to", "bob@" + srv.Domain}, {"send", "--bogus"},
		{"history"}, {"history", "bob@" + srv.Domain, "--limit", "0"}, {"search"}, {"block"}, {"register"},
		{"--nope", "account", "list"}, {"listen", "extra"},
	} {
		p.fails(exitUsage, "", args)
	}
	if r := p.run("", "frobnicate"); r.code != exitUsage {
		t.Errorf("unknown command: %s", r)
	}
	if r := p.must("", "help"); !strings.Contains(r.stdout, "account add") || !strings.Contains(r.stdout, "TERN_PASSPHRASE") {
		t.Errorf("help: %s", r.stdout)
	}

	p.must("", "account", "remove", alice.String())
	if r := p.must("", "account", "list", "--json"); r.stdout != "" {
		t.Fatalf("account list after remove: %q", r.stdout)
	}
	if _, err := k.Password(t.Context(), alice); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("the password survived account remove: %v", err)
	}
	p.fails(exitFailure, "", []string{"account", "remove", alice.String()}, "not found")
	p.fails(exitUsage, "", []string{"roster"}, "no account")
}

// TestPassphraseKey: a database whose data key is protected by a
// passphrase (as tern-cli creates it when there is no keyring) opens with
// --passphrase-stdin or $TERN_PASSPHRASE, and not with a wrong one.
func TestPassphraseKey(t *testing.T) {
	srv := xmpptest.StartProsody(t, xmpptest.Options{})
	srv.CreateAccount(t, "carol", "carol's password")
	p := newProfile(t, srv, testService(t))
	params := keyring.DefaultArgon2Params()
	key, info, err := keyring.CreatePassphraseKey([]byte("correct horse"), params)
	if err != nil {
		t.Fatal(err)
	}
	key.Destroy()
	if err := keyring.CreateKeyInfoFile(p.db+".keyinfo", info); err != nil {
		t.Fatal(err)
	}
	p.fails(exitUsage, "", []string{"account", "list"}, "passphrase")
	p.fails(exitFailure, "wrong horse\n", []string{"--passphrase-stdin", "account", "list"}, "wrong passphrase")
	// Passphrase first, then the password.
	p.must("correct horse\ncarol's password\n", "--passphrase-stdin", "account", "add", "--jid", "carol@"+srv.Domain,
		"--server", srv.Addr(), "--password-stdin")
	p.env["TERN_PASSPHRASE"] = "correct horse"
	if r := p.must("", "account", "list"); !strings.Contains(r.stdout, "carol@"+srv.Domain) {
		t.Fatalf("account list: %s", r.stdout)
	}
}

// TestMessaging: send from one account, see it with listen on another (as
// JSON), then in both histories and in search; block and unblock.
func TestMessaging(t *testing.T) {
	for _, st := range starters {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			srv := st.start(t, xmpptest.Options{})
			srv.CreateAccount(t, "alice", "alice-password")
			srv.CreateAccount(t, "bob", "bob-password")
			service := testService(t)
			pa, pb := newProfile(t, srv, service), newProfile(t, srv, service)
			alice, bob := pa.addAccount("alice", "alice-password"), pb.addAccount("bob", "bob-password")

			l := pb.listen()
			const text = "hello bob, ünïcode 👋 <b>&amp;"
			r := pa.must("", "send", "--to", bob.String(), "--body", text, "--console")
			id, err := strconv.ParseInt(strings.TrimSpace(r.stdout), 10, 64)
			if err != nil || id <= 0 {
				t.Fatalf("send printed %q, want a message id", r.stdout)
			}
			// On the wire: the message with an origin-id, acknowledged.
			for _, want := range []string{"SEND <message", "urn:xmpp:sid:0", "RECV <a xmlns=\"urn:xmpp:sm:3\""} {
				if !strings.Contains(strings.ReplaceAll(r.stderr, "'", "\""), want) {
					t.Errorf("the console lacks %q", want)
				}
			}
			m := l.next("message", func(m map[string]any) bool { return body(m) == text })
			if m["peer"] != alice.String() || m["direction"] != "in" || m["type"] != "chat" || m["account"] != bob.String() || m["origin_id"] == "" {
				t.Errorf("message event: %v", m)
			}
			events := l.stop()
			for _, e := range events {
				if _, ok := e["body"]; ok && e["event"] != "message" && e["event"] != "message_queued" && e["event"] != "headline" {
					t.Errorf("a body in a %v event", e["event"])
				}
				for _, k := range []string{"event", "account", "at"} {
					if _, ok := e[k]; !ok {
						t.Errorf("event without %q: %v", k, e)
					}
				}
			}

			// History: alice's copy is sent; bob's is received.
			r = pa.must("", "history", bob.String(), "--json")
			var out map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || body(out) != text || out["direction"] != "out" ||
				(out["state"] != "sent" && out["state"] != "delivered" && out["state"] != "read") || out["id"] != float64(id) {
				t.Fatalf("alice's history: %q (%v)", r.stdout, err)
			}
			r = pb.must("", "history", alice.String())
			if !strings.Contains(r.stdout, text) || !strings.Contains(r.stdout, alice.String()) {
				t.Fatalf("bob's history table: %q", r.stdout)
			}
			pa.must("", "send", "--to", bob.String(), "--body", "second message")
			r = pa.must("", "history", bob.String(), "--json", "--limit", "1")
			if strings.Count(r.stdout, "\n") != 1 || !strings.Contains(r.stdout, "second message") {
				t.Fatalf("history --limit 1: %q", r.stdout)
			}
			var second map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &second); err != nil {
				t.Fatal(err)
			}
			r = pa.must("", "history", bob.String(), "--json", "--before", strconv.FormatInt(int64(second["id"].(float64)), 10))
			if strings.Count(r.stdout, "\n") != 1 || !strings.Contains(r.stdout, "hello bob") {
				t.Fatalf("history --before: %q", r.stdout)
			}
			if r := pa.must("", "history", "nobody@"+srv.Domain); strings.Contains(r.stdout, "hello") {
				t.Fatalf("history with a stranger: %q", r.stdout)
			}

			// Search.
			r = pb.must("", "search", "HELLO", "--json")
			var hit map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &hit); err != nil || hit["peer"] != alice.String() || !strings.Contains(hit["marked"].(string), "[hello]") {
				t.Fatalf("search: %q (%v)", r.stdout, err)
			}
			if r := pb.must("", "search", "ünicode"); !strings.Contains(r.stdout, "[ünïcode]") {
				t.Errorf("search ignoring diacritics: %q", r.stdout)
			}
			if r := pb.must("", "search", "nothing-like-this"); strings.Count(r.stdout, "\n") != 1 {
				t.Errorf("search without hits: %q", r.stdout)
			}

			// Roster: empty, but synced.
			if r := pa.must("", "roster", "--json"); r.stdout != "" {
				t.Errorf("roster: %q", r.stdout)
			}

			// Blocking: alice blocks bob; bob's message never reaches
			// her; once unblocked, his next one does.
			r = pa.must("", "block", bob.String(), "--console")
			if !strings.Contains(strings.ReplaceAll(r.stderr, "'", "\""), "<block xmlns=\"urn:xmpp:blocking\"><item jid=\""+bob.String()+"\"") {
				t.Errorf("no block request on the wire")
			}
			if got := pa.blocklist(); len(got) != 1 || got[0] != bob.String() {
				t.Fatalf("stored block list: %v", got)
			}
			la := pa.listen()
			rb := pb.run("", "send", "--to", alice.String(), "--body", "while blocked")
			t.Logf("sending to someone who blocked us: %s", rb)
			if st.name == "prosody" && (rb.code != exitFailure || !strings.Contains(rb.stderr, "service-unavailable")) {
				// Prosody bounces it (ejabberd drops it silently): send
				// reports the failure with the reason.
				t.Errorf("send to someone who blocked us: %s", rb)
			}
			la.stop()
			if r := pa.must("", "unblock", bob.String()); r.stderr != "" {
				t.Errorf("unblock wrote to stderr: %s", r.stderr)
			}
			if got := pa.blocklist(); len(got) != 0 {
				t.Fatalf("stored block list after unblock: %v", got)
			}
			la = pa.listen()
			pb.must("", "send", "--to", alice.String(), "--body", "after unblock")
			la.next("message", func(m map[string]any) bool { return body(m) == "after unblock" })
			for _, e := range la.stop() {
				if body(e) == "while blocked" {
					t.Errorf("a message sent while blocked arrived: %v", e)
				}
			}
			r = pa.must("", "history", bob.String(), "--json")
			if strings.Contains(r.stdout, "while blocked") || !strings.Contains(r.stdout, "after unblock") {
				t.Errorf("alice's history after blocking: %s", r.stdout)
			}
		})
	}
}

// TestRegister: register creates an account in-band (XEP-0077), which
// then signs in and sends.
func TestRegister(t *testing.T) {
	for _, st := range starters {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			srv := st.start(t, xmpptest.Options{})
			srv.CreateAccount(t, "alice", "alice-password")
			service := testService(t)
			pa, pd := newProfile(t, srv, service), newProfile(t, srv, service)
			dave := "dave@" + srv.Domain
			args := []string{"register", "--jid", dave, "--server", srv.Addr(), "--password-stdin"}
			pd.fails(exitUsage, "dave-password\n", append(args, "--field", "shoe-size=42"), "shoe-size")
			r := pd.run("dave-password\n", append(args, "--save", "--console")...)
			if r.code != exitOK || !strings.Contains(r.stdout, "registered "+dave) || !strings.Contains(r.stdout, "added "+dave) {
				t.Fatalf("register: %s", r)
			}
			if !strings.Contains(strings.ReplaceAll(r.stderr, "'", "\""), "jabber:iq:register") {
				t.Errorf("no registration on the wire")
			}
			pd.fails(exitFailure, "dave-password\n", args, "taken")

			// The new account signs in (password from the keyring).
			pa.addAccount("alice", "alice-password")
			l := pa.listen()
			pd.must("", "send", "--to", "alice@"+srv.Domain, "--body", "hi from dave")
			m := l.next("message", func(m map[string]any) bool { return body(m) == "hi from dave" })
			if m["peer"] != dave {
				t.Errorf("message event: %v", m)
			}
			l.stop()
		})
	}
}
