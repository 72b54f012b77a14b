package omemo_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tern-im/tern/crypto/omemo"
	"github.com/tern-im/tern/crypto/omemo/omemotest"
	"github.com/tern-im/tern/protocol/carbons"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/message"
	wire "github.com/tern-im/tern/protocol/omemo"
	"github.com/tern-im/tern/protocol/presence"
	"github.com/tern-im/tern/protocol/session"
	"github.com/tern-im/tern/protocol/stanza"
	"github.com/tern-im/tern/protocol/xmpptest"
)

// The interoperability test runs Tern against python-omemo (oldmemo
// backend), an independent OMEMO 0.3 implementation from Debian, through a
// real Prosody: testdata/peer.py is the Python side.

const (
	python       = "/usr/bin/python3" // Debian's Python, where the packages are
	interopCount = 100                // messages each way in each phase
	eventTimeout = 120 * time.Second
)

// pyEvent is one line the peer prints.
type pyEvent struct {
	Event   string   `json:"event"`
	Device  uint32   `json:"device"`
	From    string   `json:"from"`
	Text    string   `json:"text"`
	JID     string   `json:"jid"`
	Devices []uint32 `json:"devices"`
	Error   string   `json:"error"`
	Trace   string   `json:"trace"`
	Errors  []string `json:"errors"`
}

// pyPeer is a running peer.py.
type pyPeer struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	events chan pyEvent
	stderr *lockedBuffer
	done   chan struct{}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func requirePythonOMEMO(t *testing.T) {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), python, "-c", "import omemo, oldmemo, oldmemo.etree, slixmpp, xmlschema").CombinedOutput()
	if err != nil {
		t.Fatalf("python-omemo is missing: run `make deps` (Debian: apt-get install python3-omemo python3-oldmemo python3-slixmpp python3-xmlschema): %v\n%s", err, out)
	}
}

func startPeer(t *testing.T, srv *xmpptest.Server, account, storage string) *pyPeer {
	t.Helper()
	_, port, err := net.SplitHostPort(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, filepath.Join("testdata", "peer.py"),
		"--jid", account+"@"+srv.Domain+"/py", "--password", account+"-password",
		"--port", port, "--ca", srv.CA.File(), "--storage", storage)
	p := &pyPeer{t: t, cmd: cmd, events: make(chan pyEvent, 4*interopCount), stderr: &lockedBuffer{}, done: make(chan struct{})}
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
			var ev pyEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				ev = pyEvent{Event: "error", Error: "unparsable output: " + sc.Text()}
			}
			p.events <- ev
		}
		_ = cmd.Wait()
	}()
	t.Cleanup(func() { p.stop() })
	return p
}

// stop ends the peer and waits for it.
func (p *pyPeer) stop() {
	_ = p.stdin.Close()
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *pyPeer) send(cmd map[string]string) {
	p.t.Helper()
	b, _ := json.Marshal(cmd)
	if _, err := p.stdin.Write(append(b, '\n')); err != nil {
		p.t.Fatalf("peer: %v\n%s", err, p.stderr)
	}
}

// next returns the next event that is not an empty (key transport)
// message; an error event fails the test.
func (p *pyPeer) next(what string) pyEvent {
	p.t.Helper()
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
		case <-time.After(eventTimeout):
			p.t.Fatalf("timed out waiting for %s; peer stderr:\n%s", what, p.stderr)
		}
	}
}

// received is what a Tern device's receive loop decrypted (or failed to).
type received struct {
	from omemo.Address
	text string
	kt   bool
	err  error
}

// ternClient is a Tern device on a real session: an Account, its store,
// and a receive loop that decrypts everything that arrives.
type ternClient struct {
	t    *testing.T
	dev  *device
	srv  *xmpptest.Server
	full jid.JID
	sess *session.Session
	got  chan received
	wg   sync.WaitGroup
}

func newTernClient(t *testing.T, srv *xmpptest.Server, full string, st *omemotest.Store) *ternClient {
	t.Helper()
	j := jid.MustParse(full)
	acct := omemo.New(acctID, j, omemo.Options{})
	id, _, err := acct.Setup(t.Context(), st)
	if err != nil {
		t.Fatal(err)
	}
	c := &ternClient{t: t, srv: srv, full: j, got: make(chan received, 8*interopCount),
		dev: &device{t: t, acct: acct, st: st, jid: j.Bare(), id: id}}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c.sess, err = session.Dial(ctx, session.Config{
		JID: j, Password: j.Local() + "-password", Server: srv.Addr(), TLS: &tls.Config{RootCAs: srv.CA.Pool()},
	})
	if err != nil {
		t.Fatalf("dial %s: %v", full, err)
	}
	if err := carbons.Enable(ctx, c.sess); err != nil {
		t.Fatal(err)
	}
	if err := c.sess.Send(ctx, presence.Presence{}.Element()); err != nil {
		t.Fatal(err)
	}
	c.wg.Add(1)
	go c.receive()
	t.Cleanup(c.close)
	return c
}

// close ends the session and waits for the receive loop.
func (c *ternClient) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = c.sess.Close(ctx)
	c.wg.Wait()
}

// receive decrypts every OMEMO message (carbons included) until the
// session closes, and does what Decrypt asks: key transports, prekey
// replenishment. It is what the engine's pipeline will do.
func (c *ternClient) receive() {
	defer c.wg.Done()
	ctx := context.Background()
	own := c.sess.Info().JID
	for it := range c.sess.Items() {
		if it.Stanza == nil || it.Stanza.Name.Local != "message" {
			continue
		}
		msg := it.Stanza
		if inner, _, err := carbons.Unwrap(msg, own); err == nil {
			msg = inner
		} else if !errors.Is(err, carbons.ErrNotCarbon) {
			continue
		}
		enc, err := wire.Find(msg)
		if err != nil {
			continue
		}
		from, err := jid.Parse(msg.Get("from"))
		if err != nil {
			continue
		}
		d, err := c.dev.acct.Decrypt(ctx, c.dev.st, from, enc)
		if errors.Is(err, omemo.ErrDuplicate) || errors.Is(err, omemo.ErrOwnDevice) ||
			(errors.Is(err, omemo.ErrNotForUs) && enc.KeyTransport()) {
			continue
		}
		c.got <- received{from: d.Sender, text: string(d.Plaintext), kt: d.Plaintext == nil, err: err}
		if err != nil {
			continue
		}
		if d.PreKeyUsed {
			if added, err := c.dev.acct.ReplenishPreKeys(ctx, c.dev.st); err == nil && added {
				if err := c.publishBundle(ctx); err != nil {
					c.got <- received{err: fmt.Errorf("republish bundle: %w", err)}
				}
			}
		}
		if d.SendKeyTransport {
			res, err := c.dev.acct.KeyTransport(ctx, c.dev.st, []omemo.Address{d.Sender})
			if err == nil {
				err = c.sendEncrypted(ctx, d.Sender.JID, res.Message)
			}
			if err != nil {
				c.got <- received{err: fmt.Errorf("key transport: %w", err)}
			}
		}
	}
}

func (c *ternClient) sendEncrypted(ctx context.Context, to jid.JID, e wire.Encrypted) error {
	msg := message.Message{To: to, Type: message.TypeChat, ID: c.sess.NewID()}.Element()
	return c.sess.Send(ctx, wire.AddTo(msg, e))
}

func (c *ternClient) publishBundle(ctx context.Context) error {
	b, err := c.dev.acct.Bundle(ctx, c.dev.st)
	if err != nil {
		return err
	}
	_, err = c.sess.SendIQ(ctx, wire.PublishBundle(c.dev.id.DeviceID, b))
	if wire.IsPreconditionNotMet(err) {
		if _, err = c.sess.SendIQ(ctx, wire.ConfigureNode(wire.BundleNode(c.dev.id.DeviceID))); err == nil {
			_, err = c.sess.SendIQ(ctx, wire.PublishBundle(c.dev.id.DeviceID, b))
		}
	}
	return err
}

// fetchDeviceList fetches and records owner's device list, and returns
// the list to publish (our own, when it lacks us).
func (c *ternClient) fetchDeviceList(ctx context.Context, owner jid.JID) []uint32 {
	c.t.Helper()
	res, err := c.sess.SendIQ(ctx, wire.FetchDeviceList(owner))
	var ids []uint32
	switch {
	case errors.Is(err, stanza.ErrItemNotFound):
	case err != nil:
		c.t.Fatalf("fetch %s's device list: %v", owner, err)
	default:
		if ids, err = wire.ParseDeviceListResult(res); err != nil {
			c.t.Fatal(err)
		}
	}
	publish, err := c.dev.acct.SetDeviceList(ctx, c.dev.st, owner, ids)
	if err != nil {
		c.t.Fatal(err)
	}
	return publish
}

// announce publishes our bundle and adds us to our device list.
func (c *ternClient) announce(ctx context.Context) {
	c.t.Helper()
	if err := c.publishBundle(ctx); err != nil {
		c.t.Fatalf("publish bundle: %v", err)
	}
	if publish := c.fetchDeviceList(ctx, c.dev.jid); publish != nil {
		_, err := c.sess.SendIQ(ctx, wire.PublishDeviceList(publish))
		if wire.IsPreconditionNotMet(err) {
			if _, err = c.sess.SendIQ(ctx, wire.ConfigureNode(wire.NodeDeviceList)); err == nil {
				_, err = c.sess.SendIQ(ctx, wire.PublishDeviceList(publish))
			}
		}
		if err != nil {
			c.t.Fatalf("publish device list: %v", err)
		}
	}
}

// prepare refreshes the device lists of peers (and ours) and builds the
// sessions a message to them needs; it returns the devices to encrypt to.
func (c *ternClient) prepare(ctx context.Context, peers ...jid.JID) []omemo.Address {
	c.t.Helper()
	c.fetchDeviceList(ctx, c.dev.jid)
	for _, p := range peers {
		c.fetchDeviceList(ctx, p)
	}
	plan, err := c.dev.acct.Plan(ctx, c.dev.st, peers...)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, addr := range plan.NeedBundle {
		res, err := c.sess.SendIQ(ctx, wire.FetchBundle(addr.JID, addr.Device))
		if err != nil {
			c.t.Fatalf("fetch bundle of %v: %v", addr, err)
		}
		b, err := wire.ParseBundleResult(res, addr.Device)
		if err != nil {
			c.t.Fatalf("bundle of %v: %v", addr, err)
		}
		if err := c.dev.acct.BuildSession(ctx, c.dev.st, addr, b); err != nil {
			c.t.Fatalf("session with %v: %v", addr, err)
		}
	}
	if plan, err = c.dev.acct.Plan(ctx, c.dev.st, peers...); err != nil {
		c.t.Fatal(err)
	}
	if len(plan.NeedBundle) != 0 || len(plan.Untrusted) != 0 {
		c.t.Fatalf("plan after building sessions: %+v", plan)
	}
	return plan.Ready
}

func (c *ternClient) send(ctx context.Context, to jid.JID, text string, devices []omemo.Address) {
	c.t.Helper()
	res, err := c.dev.acct.Encrypt(ctx, c.dev.st, []byte(text), devices)
	if err != nil || len(res.Skipped) != 0 {
		c.t.Fatalf("encrypt: %v (skipped %v)", err, res.Skipped)
	}
	if err := c.sendEncrypted(ctx, to, res.Message); err != nil {
		c.t.Fatal(err)
	}
}

// expect collects the texts of n messages from sender, in order,
// ignoring key-transport messages; a decryption failure fails the test.
func (c *ternClient) expect(sender omemo.Address, prefix string, n int) {
	c.t.Helper()
	for i := 0; i < n; {
		select {
		case r := <-c.got:
			if r.err != nil {
				c.t.Fatalf("%s: %v", c.full, r.err)
			}
			if r.kt {
				continue
			}
			if want := prefix + strconv.Itoa(i); r.text != want || r.from != sender {
				c.t.Fatalf("%s got %q from %v, want %q from %v", c.full, r.text, r.from, want, sender)
			}
			i++
		case <-time.After(eventTimeout):
			c.t.Fatalf("%s: timed out after %d of %d messages from %v", c.full, i, n, sender)
		}
	}
}

func TestInteropPythonOMEMO(t *testing.T) {
	requirePythonOMEMO(t)
	srv := xmpptest.StartProsody(t, xmpptest.Options{})
	srv.CreateAccount(t, "alice", "alice-password")
	srv.CreateAccount(t, "bob", "bob-password")
	bob := jid.MustParse("bob@" + srv.Domain)
	alice := jid.MustParse("alice@" + srv.Domain)
	ctx := t.Context()

	// Bob is python-omemo; it publishes its device and bundle.
	storage := filepath.Join(t.TempDir(), "python-omemo.json")
	py := startPeer(t, srv, "bob", storage)
	pyDevice := py.next("the peer to start").Device
	pyAddr := omemo.Address{JID: bob, Device: pyDevice}

	// Alice has two Tern devices.
	st1, st2 := &omemotest.Store{}, &omemotest.Store{}
	a1 := newTernClient(t, srv, alice.String()+"/one", st1)
	a1.announce(ctx)
	a2 := newTernClient(t, srv, alice.String()+"/two", st2)
	a2.announce(ctx)
	a2.prepare(ctx) // learns a1

	// 1. Tern starts the session: a1 → Bob, with copies to a2 (carbons).
	devices := a1.prepare(ctx, bob)
	if len(devices) != 2 {
		t.Fatalf("a1 encrypts to %v, want Bob's device and a2", devices)
	}
	for i := range interopCount {
		a1.send(ctx, bob, "t2p-"+strconv.Itoa(i), devices)
	}
	for i := range interopCount {
		ev := py.next("Tern's message")
		if ev.Event != "message" || ev.Text != "t2p-"+strconv.Itoa(i) || ev.Device != a1.dev.id.DeviceID || ev.From != alice.String() {
			t.Fatalf("python got %+v, want t2p-%d from device %d", ev, i, a1.dev.id.DeviceID)
		}
	}
	a2.expect(a1.dev.addr(), "t2p-", interopCount)

	// 2. Python restarts with its stored state, then writes to Alice: it
	// starts the session with a2 and uses the one a1 started.
	py.send(map[string]string{"cmd": "quit"})
	py.stop()
	py = startPeer(t, srv, "bob", storage)
	if again := py.next("the peer to restart").Device; again != pyDevice {
		t.Fatalf("python's device changed across the restart: %d → %d", pyDevice, again)
	}
	py.send(map[string]string{"cmd": "refresh", "jid": alice.String()})
	if ev := py.next("refresh"); len(ev.Devices) != 2 {
		t.Fatalf("python sees Alice's devices %v", ev.Devices)
	}
	for i := range interopCount {
		py.send(map[string]string{"cmd": "send", "to": alice.String(), "text": "p2t-" + strconv.Itoa(i)})
	}
	for range interopCount {
		if ev := py.next("sent"); ev.Event != "sent" || len(ev.Errors) != 0 {
			t.Fatalf("python send: %+v", ev)
		}
	}
	a1.expect(pyAddr, "p2t-", interopCount)
	a2.expect(pyAddr, "p2t-", interopCount)

	// 3. Tern restarts (a new Account on the same store, a new session)
	// and writes again; then Python answers.
	a1.close()
	a1 = newTernClient(t, srv, alice.String()+"/one", st1)
	devices = a1.prepare(ctx, bob)
	for i := range interopCount {
		a1.send(ctx, bob, "again-"+strconv.Itoa(i), devices)
	}
	for i := range interopCount {
		ev := py.next("Tern's message after its restart")
		if ev.Event != "message" || ev.Text != "again-"+strconv.Itoa(i) || ev.Device != a1.dev.id.DeviceID {
			t.Fatalf("python got %+v, want again-%d", ev, i)
		}
	}
	a2.expect(a1.dev.addr(), "again-", interopCount)
	for i := range interopCount {
		py.send(map[string]string{"cmd": "send", "to": alice.String(), "text": "reply-" + strconv.Itoa(i)})
	}
	for range interopCount {
		if ev := py.next("sent"); ev.Event != "sent" || len(ev.Errors) != 0 {
			t.Fatalf("python send: %+v", ev)
		}
	}
	a1.expect(pyAddr, "reply-", interopCount)
	a2.expect(pyAddr, "reply-", interopCount)

	// 4. a2 writes to Python over the session Python started.
	devices = a2.prepare(ctx, bob)
	for i := range 10 {
		a2.send(ctx, bob, "from-two-"+strconv.Itoa(i), devices)
	}
	for i := range 10 {
		ev := py.next("a2's message")
		if ev.Event != "message" || ev.Text != "from-two-"+strconv.Itoa(i) || ev.Device != a2.dev.id.DeviceID {
			t.Fatalf("python got %+v, want from-two-%d", ev, i)
		}
	}
}
