package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gokeyring "github.com/zalando/go-keyring"

	"github.com/tern-im/tern/crypto/omemo"
	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/xmpptest"
	"github.com/tern-im/tern/storage/keyring"
)

// TestNoSecretInClear runs tern-cli as a user would — a separate process,
// the real Secret Service (scripts/testenv.sh), a Prosody account, debug
// logging — through account add, connect, send, listen and history, then
// creates the OMEMO identity in the same database through the library, and
// reads every file the run left (the databases with their -wal and -shm,
// the logs, the captured standard output and error): none may contain the
// account password, the data key or an OMEMO private key, in any of the
// encodings they could leak in.
func TestNoSecretInClear(t *testing.T) {
	srv := xmpptest.StartProsody(t, xmpptest.Options{})
	service := testService(t) // fails (never skips) without a Secret Service
	// Random passwords: a needle that nothing else could contain.
	alicePW, bobPW := "pw-alice-"+rand.Text(), "pw-bob-"+rand.Text()
	srv.CreateAccount(t, "alice", alicePW)
	srv.CreateAccount(t, "bob", bobPW)
	alice, bob := jid.MustParse("alice@"+srv.Domain), jid.MustParse("bob@"+srv.Domain)

	run := newCLIRun(t, buildCLI(t), service, srv.CA.File())
	dbA, dbB := filepath.Join(run.dir, "alice", "tern.db"), filepath.Join(run.dir, "bob", "tern.db")

	// account add verifies the password by logging in, then stores it in
	// the keyring: from here on, the commands take it from there.
	for _, a := range []struct {
		db, jid, pw string
	}{{dbA, alice.String(), alicePW}, {dbB, bob.String(), bobPW}} {
		out := run.must(a.db, a.pw+"\n", "account", "add", "--jid", a.jid, "--server", srv.Addr(), "--password-stdin")
		if !strings.Contains(out, "added "+a.jid) {
			t.Fatalf("account add printed %q", out)
		}
		if got, err := gokeyring.Get(service, a.jid); err != nil || got != a.pw {
			t.Fatalf("the keyring does not hold %s's password: %v", a.jid, err)
		}
	}
	// connect with PLAIN and the XML console: the one place a password
	// goes over the wire (base64 in <auth/>), which the console redacts.
	run.must(dbA, alicePW+"\n", "connect", "--jid", alice.String(), "--server", srv.Addr(), "--password-stdin",
		"--mechanism", "PLAIN", "--console", "--ca-file", srv.CA.File())
	if console, _ := filepath.Glob(filepath.Join(run.dir, "logs", "*-connect.stderr")); len(console) != 1 {
		t.Fatalf("connect's standard error: %v", console)
	} else if b, _ := os.ReadFile(console[0]); !bytes.Contains(b, []byte("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>")) {
		t.Fatalf("the console does not show the PLAIN <auth/>:\n%s", b)
	}

	// bob listens; alice sends with the password from the keyring; bob
	// receives it; both read their history.
	const text = "a body that is stored in clear: marker-7f3a"
	l := run.start(dbB, "listen")
	l.wait("online", "")
	out := run.must(dbA, "", "send", "--to", bob.String(), "--body", text)
	if strings.TrimSpace(out) == "" {
		t.Fatal("send printed no message id")
	}
	l.wait("message", text)
	l.stop()
	if out := run.must(dbA, "", "history", bob.String(), "--json"); !strings.Contains(out, text) {
		t.Fatalf("alice's history lacks the message: %q", out)
	}
	if out := run.must(dbB, "", "history", alice.String()); !strings.Contains(out, text) {
		t.Fatalf("bob's history lacks the message: %q", out)
	}

	// The OMEMO identity, prekeys and signed prekey of alice, created
	// through the library on her database with the keyring's data key.
	p := &profile{t: t, srv: srv, db: dbA, service: service}
	db := p.openDB()
	var id omemo.Identity
	var pre []omemo.PreKey
	var signed []omemo.SignedPreKey
	err := db.Update(t.Context(), func(tx client.Tx) error {
		accts, err := tx.Accounts(t.Context())
		if err != nil || len(accts) != 1 {
			return fmt.Errorf("accounts %v: %w", accts, err)
		}
		// Setup creates the device, or returns the one tern-cli made.
		st := tx.(omemo.Store)
		if id, _, err = omemo.New(accts[0].ID, alice, omemo.Options{}).Setup(t.Context(), st); err != nil {
			return fmt.Errorf("omemo setup: %w", err)
		}
		if pre, err = st.PreKeys(t.Context(), accts[0].ID); err != nil {
			return err
		}
		signed, err = st.SignedPreKeys(t.Context(), accts[0].ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(id.PrivateKey) != 32 || len(pre) == 0 || len(signed) != 1 {
		t.Fatalf("OMEMO setup made an identity key of %d bytes, %d prekeys, %d signed prekeys", len(id.PrivateKey), len(pre), len(signed))
	}
	// What Setup returned is what the store keeps (sealed): read back in a
	// new transaction, it opens to the same key.
	err = db.View(t.Context(), func(tx client.Tx) error {
		accts, err := tx.Accounts(t.Context())
		if err != nil {
			return err
		}
		got, err := tx.(omemo.Store).Identity(t.Context(), accts[0].ID)
		if err == nil && !bytes.Equal(got.PrivateKey, id.PrivateKey) {
			err = fmt.Errorf("the stored identity key differs from the one created")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	// The needles.
	var needles []needle
	needles = append(needles, textNeedles("alice's password", alicePW)...)
	needles = append(needles, textNeedles("bob's password", bobPW)...)
	for _, who := range []struct {
		name, local, pw string
	}{{"alice", "alice", alicePW}, {"bob", "bob", bobPW}} {
		// SASL PLAIN's message (RFC 4616), as <auth/> carries it.
		needles = append(needles, needle{who.name + "'s SASL PLAIN message (base64)",
			[]byte(base64.StdEncoding.EncodeToString([]byte("\x00" + who.local + "\x00" + who.pw)))})
	}
	for _, d := range []struct{ name, db string }{{"alice's data key", dbA}, {"bob's data key", dbB}} {
		info, err := keyring.ReadKeyInfoFile(d.db + ".keyinfo")
		if err != nil {
			t.Fatal(err)
		}
		stored, err := gokeyring.Get(service, info.Entry)
		if err != nil {
			t.Fatalf("%s is not in the keyring: %v", d.name, err)
		}
		master, err := base64.StdEncoding.DecodeString(stored)
		if err != nil || len(master) != keyring.KeySize {
			t.Fatalf("%s in the keyring: %d bytes, %v", d.name, len(master), err)
		}
		needles = append(needles, binaryNeedles(d.name, master)...)
	}
	needles = append(needles, binaryNeedles("the OMEMO identity private key", id.PrivateKey)...)
	needles = append(needles, binaryNeedles("an OMEMO prekey private key", pre[0].PrivateKey)...)
	needles = append(needles, binaryNeedles("the OMEMO signed prekey private key", signed[0].PrivateKey)...)

	// Scan once with the database still open (its -wal and -shm exist),
	// once after everything closed.
	scanned := run.scan(t, needles, text)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	scanned = append(scanned, run.scan(t, needles, text)...)

	// The scan was not vacuous: it read the databases and the logs, and the
	// logs are debug logs.
	for _, want := range []string{dbA, dbB, dbA + "-wal", dbA + ".keyinfo"} {
		if !slicesContains(scanned, want) {
			t.Errorf("%s was not scanned (scanned: %v)", want, scanned)
		}
	}
	logs := 0
	for _, f := range scanned {
		if strings.HasSuffix(f, ".stderr") {
			b, _ := os.ReadFile(f)
			if bytes.Contains(b, []byte("level=DEBUG")) {
				logs++
			}
		}
	}
	if logs == 0 {
		t.Error("no log file has a debug record: TERN_LOG=debug did not take effect")
	}
}

// needle is a secret in one encoding.
type needle struct {
	what string
	b    []byte
}

// textNeedles are a text secret as it is and in base64.
func textNeedles(what, s string) []needle {
	return []needle{
		{what, []byte(s)},
		{what + " (base64)", []byte(base64.StdEncoding.EncodeToString([]byte(s)))},
		{what + " (base64, unpadded)", []byte(base64.RawStdEncoding.EncodeToString([]byte(s)))},
	}
}

// binaryNeedles are a binary secret raw, in hex and in base64.
func binaryNeedles(what string, b []byte) []needle {
	return []needle{
		{what + " (raw)", b},
		{what + " (hex)", []byte(hex.EncodeToString(b))},
		{what + " (HEX)", []byte(strings.ToUpper(hex.EncodeToString(b)))},
		{what + " (base64)", []byte(base64.StdEncoding.EncodeToString(b))},
		{what + " (base64, unpadded)", []byte(base64.RawStdEncoding.EncodeToString(b))},
		{what + " (base64url)", []byte(base64.RawURLEncoding.EncodeToString(b))},
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// buildCLI builds tern-cli once for the test and returns the binary's path.
func buildCLI(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build tern-cli: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "tern-cli")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, gobin, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// cliRun runs tern-cli processes with debug logging and keeps each one's
// standard output and error in files under dir, next to the databases.
type cliRun struct {
	t   *testing.T
	bin string
	dir string
	env []string
	n   int
}

func newCLIRun(t *testing.T, bin, service, caFile string) *cliRun {
	return &cliRun{t: t, bin: bin, dir: t.TempDir(),
		env: append(os.Environ(), "TERN_KEYRING_SERVICE="+service, "TERN_CA_FILE="+caFile, "TERN_LOG=debug")}
}

// command returns the process for args on database db, with its output
// going to two new files.
func (r *cliRun) command(ctx context.Context, db string, args []string) (*exec.Cmd, *os.File, *os.File) {
	r.t.Helper()
	r.n++
	base := filepath.Join(r.dir, "logs", fmt.Sprintf("%02d-%s", r.n, args[0]))
	if err := os.MkdirAll(filepath.Dir(base), 0o700); err != nil {
		r.t.Fatal(err)
	}
	stdout, err := os.Create(base + ".stdout")
	if err != nil {
		r.t.Fatal(err)
	}
	stderr, err := os.Create(base + ".stderr")
	if err != nil {
		r.t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, r.bin, append([]string{"--db", db}, args...)...)
	cmd.Env = r.env
	cmd.Stderr = stderr
	return cmd, stdout, stderr
}

// must runs a command that has to succeed and returns its standard output.
func (r *cliRun) must(db, stdin string, args ...string) string {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(r.t.Context(), stepTimeout)
	defer cancel()
	cmd, stdout, stderr := r.command(ctx, db, args)
	defer stderr.Close()
	defer stdout.Close()
	var out bytes.Buffer
	cmd.Stdout = io.MultiWriter(stdout, &out)
	cmd.Stdin = strings.NewReader(stdin)
	if err := cmd.Run(); err != nil {
		errOut, _ := os.ReadFile(stderr.Name())
		r.t.Fatalf("tern-cli %s: %v\nstdout:\n%s\nstderr:\n%s", args[0], err, out.String(), errOut)
	}
	return out.String()
}

// process is a running tern-cli listen.
type process struct {
	t      *testing.T
	cmd    *exec.Cmd
	files  []*os.File
	events chan map[string]any
	done   chan error
	once   sync.Once
}

// start starts a long-running command that prints JSON events.
func (r *cliRun) start(db string, args ...string) *process {
	r.t.Helper()
	cmd, stdout, stderr := r.command(context.Background(), db, args)
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		r.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	p := &process{t: r.t, cmd: cmd, files: []*os.File{stdout, stderr}, events: make(chan map[string]any, 1000), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(io.TeeReader(pipe, stdout))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				p.events <- m
			}
		}
		close(p.events)
		p.done <- cmd.Wait()
	}()
	r.t.Cleanup(p.stop)
	return p
}

// wait waits for an event of kind (with that body, unless empty).
func (p *process) wait(kind, body string) {
	p.t.Helper()
	timeout := time.After(stepTimeout)
	for {
		select {
		case m, ok := <-p.events:
			if !ok {
				p.t.Fatalf("listen ended while waiting for %q", kind)
			}
			if m["event"] == "failed" {
				p.t.Fatalf("listen: %v", m)
			}
			if m["event"] == kind && (body == "" || m["body"] == body) {
				return
			}
		case <-timeout:
			p.t.Fatalf("no %q event within %v", kind, stepTimeout)
		}
	}
}

// stop interrupts the process, as Ctrl-C would, and waits until it exits
// cleanly.
func (p *process) stop() {
	p.once.Do(func() {
		defer func() {
			for _, f := range p.files {
				f.Close()
			}
		}()
		if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
			p.t.Errorf("interrupt listen: %v", err)
		}
		for range p.events {
		}
		select {
		case err := <-p.done:
			if err != nil {
				p.t.Errorf("listen after an interrupt: %v", err)
			}
		case <-time.After(stepTimeout):
			p.cmd.Process.Kill()
			p.t.Error("listen did not stop after an interrupt")
		}
	})
}

// scan reads every file under the run's directory and reports the needles
// it finds; positive is text that must be found (stored in clear in the
// databases), which shows the scan reads what it should. It returns the
// files read.
func (r *cliRun) scan(t *testing.T, needles []needle, positive string) []string {
	t.Helper()
	for _, n := range needles {
		if len(n.b) < 16 {
			t.Fatalf("needle %s is only %d bytes long", n.what, len(n.b))
		}
	}
	var files []string
	found := false
	err := filepath.WalkDir(r.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files = append(files, path)
		found = found || bytes.Contains(b, []byte(positive))
		for _, n := range needles {
			if i := bytes.Index(b, n.b); i >= 0 {
				t.Errorf("%s: %s in clear at offset %d", filepath.Base(path), n.what, i)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Errorf("the scan did not find the message body stored in clear in any of %d files", len(files))
	}
	return files
}
