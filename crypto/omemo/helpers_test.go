package omemo_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tern-im/tern/crypto/omemo"
	"github.com/tern-im/tern/crypto/omemo/omemotest"
	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	wire "github.com/tern-im/tern/protocol/omemo"
)

// clock is a settable Options.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// device is one OMEMO device of a test account: an Account on a store of
// its own, as on a separate machine.
type device struct {
	t    testing.TB
	acct *omemo.Account
	st   *omemotest.Store
	jid  jid.JID
	id   omemo.Identity
}

const acctID client.AccountID = 1

func newDevice(t testing.TB, addr string, opts omemo.Options) *device {
	t.Helper()
	j := jid.MustParse(addr)
	d := &device{t: t, acct: omemo.New(acctID, j, opts), st: &omemotest.Store{}, jid: j.Bare()}
	id, created, err := d.acct.Setup(context.Background(), d.st)
	if err != nil || !created {
		t.Fatalf("Setup: %v %v", created, err)
	}
	d.id = id
	return d
}

func (d *device) addr() omemo.Address { return omemo.Address{JID: d.jid, Device: d.id.DeviceID} }

func (d *device) bundle() wire.Bundle {
	d.t.Helper()
	b, err := d.acct.Bundle(context.Background(), d.st)
	if err != nil {
		d.t.Fatal(err)
	}
	return b
}

// knows records other's device list and builds a session from its
// bundle.
func (d *device) knows(others ...*device) {
	d.t.Helper()
	for _, o := range others {
		d.learnList(o)
		if err := d.acct.BuildSession(context.Background(), d.st, o.addr(), o.bundle()); err != nil {
			d.t.Fatalf("BuildSession %v: %v", o.addr(), err)
		}
	}
}

// learnList adds other's device to the device list d knows of its owner.
func (d *device) learnList(o *device) {
	d.t.Helper()
	devs, err := d.st.Devices(context.Background(), acctID, o.jid)
	if err != nil {
		d.t.Fatal(err)
	}
	ids := []uint32{o.id.DeviceID}
	for _, x := range devs {
		if x.Active {
			ids = append(ids, x.ID)
		}
	}
	if _, err := d.acct.SetDeviceList(context.Background(), d.st, o.jid, ids); err != nil {
		d.t.Fatal(err)
	}
}

func (d *device) encrypt(text string, to ...*device) wire.Encrypted {
	d.t.Helper()
	var addrs []omemo.Address
	for _, o := range to {
		addrs = append(addrs, o.addr())
	}
	res, err := d.acct.Encrypt(context.Background(), d.st, []byte(text), addrs)
	if err != nil {
		d.t.Fatalf("Encrypt: %v", err)
	}
	if len(res.Recipients) != len(addrs) {
		d.t.Fatalf("Encrypt reached %v, skipped %v", res.Recipients, res.Skipped)
	}
	return res.Message
}

func (d *device) decrypt(from *device, e wire.Encrypted) (omemo.Decrypted, error) {
	return d.acct.Decrypt(context.Background(), d.st, from.jid, e)
}

func (d *device) mustDecrypt(from *device, e wire.Encrypted, want string) omemo.Decrypted {
	d.t.Helper()
	got, err := d.decrypt(from, e)
	if err != nil {
		d.t.Fatalf("Decrypt: %v", err)
	}
	if string(got.Plaintext) != want || got.Sender != from.addr() {
		d.t.Fatalf("Decrypt = %q from %v, want %q from %v", got.Plaintext, got.Sender, want, from.addr())
	}
	return got
}

// wantReason checks that err is a *DecryptError with the reason and repair.
func wantReason(t testing.TB, err, reason error, repair omemo.Repair) {
	t.Helper()
	var de *omemo.DecryptError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v (%T), want a *DecryptError", err, err)
	}
	if !errors.Is(err, reason) || de.Repair != repair {
		t.Fatalf("err = %v (repair %v), want %v (repair %v)", err, de.Repair, reason, repair)
	}
}
