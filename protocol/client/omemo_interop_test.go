package client_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/xmpptest"
)

// The engine against python-omemo (oldmemo backend), an independent
// OMEMO 0.3 implementation from Debian, through a real Prosody. The peer
// is crypto/omemo's test peer (crypto/omemo/testdata/peer.py); the
// crypto-level test there drives Account directly, this one the whole
// engine: device lists, bundles, sessions, carbons, the store.

const (
	pyPython   = "/usr/bin/python3" // Debian's Python, where the packages are
	pyCount    = 100                // messages each way
	pyTimeout  = 2 * time.Minute
	pyPassword = "py-password"
)

// pyEv is one line the peer prints.
type pyEv struct {
	Event   string   `json:"event"`
	Device  uint32   `json:"device"`
	From    string   `json:"from"`
	Text    string   `json:"text"`
	Devices []uint32 `json:"devices"`
	Error   string   `json:"error"`
	Trace   string   `json:"trace"`
	Errors  []string `json:"errors"`
}

// pyProc is a running peer.py.
type pyProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	events chan pyEv
	stderr *syncBuf
	done   chan struct{}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startPy(t *testing.T, srv *xmpptest.Server, local, storage string) *pyProc {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), pyPython, "-c", "import omemo, oldmemo, oldmemo.etree, slixmpp").CombinedOutput()
	if err != nil {
		t.Fatalf("python-omemo is missing: run `make deps` (Debian: apt-get install python3-omemo python3-oldmemo python3-slixmpp): %v\n%s", err, out)
	}
	_, port, err := net.SplitHostPort(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(pyPython, filepath.Join("..", "..", "crypto", "omemo", "testdata", "peer.py"),
		"--jid", local+"@"+srv.Domain+"/py", "--password", pyPassword,
		"--port", port, "--ca", srv.CA.File(), "--storage", storage)
	p := &pyProc{t: t, cmd: cmd, events: make(chan pyEv, 8*pyCount), stderr: &syncBuf{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var ev pyEv
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				ev = pyEv{Event: "error", Error: "unparsable output: " + sc.Text()}
			}
			p.events <- ev
		}
		_ = cmd.Wait()
	}()
	t.Cleanup(p.stop)
	return p
}

func (p *pyProc) stop() {
	_ = p.stdin.Close()
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *pyProc) command(cmd map[string]string) {
	p.t.Helper()
	b, _ := json.Marshal(cmd)
	if _, err := p.stdin.Write(append(b, '\n')); err != nil {
		p.t.Fatalf("peer: %v\n%s", err, p.stderr)
	}
}

// next returns the next event other than a key-transport message; an
// error event fails the test.
func (p *pyProc) next(what string) pyEv {
	p.t.Helper()
	timeout := time.After(pyTimeout)
	for {
		select {
		case ev := <-p.events:
			switch ev.Event {
			case "error":
				p.t.Fatalf("peer error while waiting for %s: %s\n%s\nstderr:\n%s", what, ev.Error, ev.Trace, p.stderr)
			case "empty":
				continue
			}
			return ev
		case <-p.done:
			p.t.Fatalf("peer exited while waiting for %s; stderr:\n%s", what, p.stderr)
		case <-timeout:
			p.t.Fatalf("timed out waiting for %s; peer stderr:\n%s", what, p.stderr)
		}
	}
}

// restart stops the peer and starts it again on its storage; it returns
// its device id, which must not change.
func (p *pyProc) restart(t *testing.T, srv *xmpptest.Server, local, storage string) uint32 {
	t.Helper()
	p.command(map[string]string{"cmd": "quit"})
	p.stop()
	q := startPy(t, srv, local, storage)
	ev := q.next("ready after the restart")
	if ev.Event != "ready" {
		t.Fatalf("peer: %+v", ev)
	}
	*p = *q
	return ev.Device
}

// receive waits for the texts from `from`, in order.
func (p *pyProc) receive(from jid.JID, texts []string) {
	p.t.Helper()
	for _, want := range texts {
		ev := p.next("message " + want)
		if ev.Event != "message" || ev.Text != want || ev.From != from.String() {
			p.t.Fatalf("peer: got %+v, want %q from %s", ev, want, from)
		}
	}
}

// sendAll has the peer send texts to `to`.
func (p *pyProc) sendAll(to jid.JID, texts []string) {
	p.t.Helper()
	for _, txt := range texts {
		p.command(map[string]string{"cmd": "send", "to": to.String(), "text": txt})
		if ev := p.next("sent " + txt); ev.Event != "sent" || ev.Text != txt || len(ev.Errors) != 0 {
			p.t.Fatalf("peer send: %+v", ev)
		}
	}
}

// TestOMEMOInteropEngine: the engine and python-omemo, both directions
// and both as session initiator, with our second device receiving copies,
// 100 messages each way, then a restart of each side.
func TestOMEMOInteropEngine(t *testing.T) {
	srv := xmpptest.StartProsody(t, xmpptest.Options{})
	srv.CreateAccount(t, "alice", password)
	srv.CreateAccount(t, "pyuser", pyPassword)
	alice, pyJID := jid.MustParse("alice@"+srv.Domain), jid.MustParse("pyuser@"+srv.Domain)
	a1, a2 := omOpen(t, srv, "alice", "one"), omOpen(t, srv, "alice", "two")
	a1.start()
	a2.start()
	sib := a2.device()
	omWait(a1, "own device list with the sibling", func(e client.DevicesChanged) bool {
		return e.Owner == alice && slices.Contains(e.Devices, sib)
	})
	storage := filepath.Join(t.TempDir(), "py.json")
	py := startPy(t, srv, "pyuser", storage)
	if ev := py.next("ready"); ev.Event != "ready" {
		t.Fatalf("peer: %+v", ev)
	}
	t.Cleanup(func() { py.stop() }) // the last one

	// Tern initiates: alice/one's 100 messages; alice/two gets the
	// carbons and decrypts them.
	var all []string
	fromTern := omNumbered("tern to py", 0, pyCount)
	for _, txt := range fromTern {
		a1.send(pyJID, txt)
	}
	py.receive(alice, fromTern)
	all = append(all, fromTern...)
	a2.waitTexts(pyJID, all)

	// python-omemo initiates with a third device of alice's, and answers on
	// the sessions alice's first two devices started.
	a3 := omOpen(t, srv, "alice", "three")
	a3.start()
	third := a3.device()
	// (The peer restarts first, on its stored state: a restart of that
	// side, as the crypto-level test does it before a refresh.)
	pyDevice := py.restart(t, srv, "pyuser", storage)
	py.command(map[string]string{"cmd": "refresh", "jid": alice.String()})
	if ev := py.next("refresh"); ev.Event != "refreshed" || !slices.Contains(ev.Devices, third) || !slices.Contains(ev.Devices, sib) {
		t.Fatalf("peer refresh: %+v", ev)
	}
	fromPy := omNumbered("py to tern", 0, pyCount)
	toPy := []string{"SEND", "<encrypted", "to='" + pyJID.String() + "'"}
	before := a1.wire.count(toPy...)
	py.sendAll(alice, fromPy)
	all = append(all, fromPy...)
	for _, d := range []*omDevice{a1, a2} {
		d.waitTexts(pyJID, all)
	}
	a3.ordered, a3.skipFailed = false, true
	a3.waitTexts(pyJID, fromPy)
	// 100 messages on the session alice/one started, and no answer: a
	// key-transport heartbeat after the 53rd (python-omemo's number, see
	// crypto/omemo DefaultHeartbeatAfter).
	a1.wire.waitMore(t, before, toPy...)
	for _, m := range a1.messages(pyJID) {
		if m.Direction == client.Inbound && m.Trust != client.TrustBlind {
			t.Fatalf("alice/one: %q with trust %d", m.Text(), m.Trust)
		}
	}

	// Tern restarts on its store; the sessions go on.
	a1.stop()
	a1.start()
	if m := a1.messages(pyJID); m[len(m)-1].SenderDevice != pyDevice {
		t.Fatalf("alice/one: the last message from device %d, want the peer's %d", m[len(m)-1].SenderDevice, pyDevice)
	}
	after := omNumbered("tern after restart", 0, 10)
	for _, txt := range after {
		a1.send(pyJID, txt)
	}
	py.receive(alice, after)
	back := omNumbered("py after restart", 0, 10)
	py.sendAll(alice, back)
	all = append(all, after...)
	all = append(all, back...)
	a1.ordered = false // the restart's catch-up may add archive copies' times
	a1.waitTexts(pyJID, all)
	a2.waitTexts(pyJID, all)
	for _, d := range []*omDevice{a1, a2, a3} {
		d.noPlaintext(all...)
	}
}
