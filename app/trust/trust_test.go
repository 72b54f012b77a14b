package trust_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"rsc.io/qr"

	terntheme "github.com/tern-im/tern/app/theme"
	"github.com/tern-im/tern/app/trust"
	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
)

// The compile-time proof that the engine offers what the screen needs.
var _ trust.Engine = (*client.Client)(nil)

// tasks runs functions on goroutines and waits for them.
type tasks struct {
	wg sync.WaitGroup
	ui sync.Mutex
}

func (t *tasks) Do(f func()) {
	t.ui.Lock()
	defer t.ui.Unlock()
	fyne.Do(f)
}

func (t *tasks) Go(f func(ctx context.Context)) {
	t.wg.Add(1)
	go func() { defer t.wg.Done(); f(context.Background()) }()
}

// engine is a fake trust.Engine holding devices in memory.
type engine struct {
	mu      sync.Mutex
	devices []client.DeviceInfo
	calls   []string
	failSet error
}

const ownURI = "xmpp:romeo@montague.lit?omemo-sid-1001=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func (e *engine) OwnFingerprint(context.Context) (uint32, string, error) {
	return 1001, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", nil
}

func (e *engine) OwnURI(context.Context) (string, error) { return ownURI, nil }

func (e *engine) Devices(_ context.Context, owner jid.JID) ([]client.DeviceInfo, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]client.DeviceInfo(nil), e.devices...), nil
}

func (e *engine) SetTrust(_ context.Context, owner jid.JID, fp string, t client.DeviceTrust) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, owner.String()+" "+fp[:8]+" "+t.String())
	if e.failSet != nil {
		return e.failSet
	}
	for i, d := range e.devices {
		for j, k := range d.Keys {
			if k.Fingerprint == fp {
				e.devices[i].Keys[j].Trust = t
			}
		}
	}
	return nil
}

func (e *engine) SetEncryption(context.Context, client.ConversationID, client.EncryptionPolicy) error {
	return nil
}

func (e *engine) Encrypts(context.Context, jid.JID) (bool, error) { return true, nil }

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func fp(c byte) string { return strings.Repeat(string(c), 64) }

func juliet(t *testing.T) jid.JID {
	j, err := jid.Parse("juliet@capulet.lit")
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func newEngine(t *testing.T) *engine {
	j := juliet(t)
	return &engine{devices: []client.DeviceInfo{
		{DeviceAddress: client.DeviceAddress{JID: j, Device: 31415}, Active: true,
			Keys: []client.DeviceKey{{Fingerprint: fp('a'), Trust: client.DeviceVerified, FirstSeen: t0}}},
		{DeviceAddress: client.DeviceAddress{JID: j, Device: 27182}, Active: true,
			Keys: []client.DeviceKey{{Fingerprint: fp('b'), Trust: client.DeviceUndecided, FirstSeen: t0}}},
		{DeviceAddress: client.DeviceAddress{JID: j, Device: 16180}, Active: true,
			Keys: []client.DeviceKey{{Fingerprint: fp('c'), Trust: client.DeviceBlind, FirstSeen: t0}, {Fingerprint: fp('d'), Trust: client.DeviceUndecided, FirstSeen: t0.Add(time.Hour)}}},
	}}
}

func TestFormatFingerprint(t *testing.T) {
	got := trust.FormatFingerprint("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	want := "01234567 89abcdef 01234567 89abcdef\n01234567 89abcdef 01234567 89abcdef"
	if got != want {
		t.Fatalf("FormatFingerprint = %q", got)
	}
}

func TestWarnings(t *testing.T) {
	e := newEngine(t)
	for i, want := range []string{"", trust.NewWarning, trust.ChangedWarning} {
		if got := trust.Warning(e.devices[i]); got != want {
			t.Errorf("device %d: warning %q, want %q", e.devices[i].Device, got, want)
		}
	}
}

func TestScreenShowsDevicesAndDecides(t *testing.T) {
	test.NewTempApp(t)
	e := newEngine(t)
	run := &tasks{}
	s := trust.NewScreen(run, e, juliet(t))
	changed := 0
	s.OnChanged = func() { changed++ }
	w := test.NewTempWindow(t, s.Content())
	w.Resize(fyne.NewSize(560, 900))
	s.Load()
	run.wg.Wait()
	if len(s.Devices()) != 3 || s.OwnURI() != ownURI || s.Status() != "" {
		t.Fatalf("loaded %d devices, URI %q, status %q", len(s.Devices()), s.OwnURI(), s.Status())
	}
	test.AssertRendersToMarkup(t, "devices.xml", w.Canvas())
	fyne.CurrentApp().Settings().SetTheme(terntheme.NewVariant(theme.VariantDark))
	test.AssertImageMatches(t, "devices_dark.png", w.Canvas().Capture())
	fyne.CurrentApp().Settings().SetTheme(terntheme.NewVariant(theme.VariantLight))

	// Trust the new device (27182): the decision reaches the engine and
	// the screen reloads.
	b := findButtons(t, w.Canvas().Content(), trust.TrustLabel)
	if len(b) != 2 {
		t.Fatalf("%d Trust buttons, want 2 (the undecided devices)", len(b))
	}
	test.Tap(b[0])
	run.wg.Wait()
	if len(e.calls) != 1 || e.calls[0] != "juliet@capulet.lit bbbbbbbb blind" || changed != 1 {
		t.Fatalf("calls = %q, changed %d", e.calls, changed)
	}
	if k, _ := s.Devices()[1].Current(); k.Trust != client.DeviceBlind {
		t.Fatalf("device 27182 is %v after trusting", k.Trust)
	}
	// A failed decision is shown.
	e.failSet = errors.New("store closed")
	test.Tap(findButtons(t, w.Canvas().Content(), trust.DistrustLabel)[0])
	run.wg.Wait()
	if s.Status() != "Could not save the decision: store closed" {
		t.Fatalf("status = %q", s.Status())
	}
}

// TestQRImageMatchesEncoder checks the QR code drawn for the screen module
// by module against rsc.io/qr's own matrix, after a PNG round trip (zbarimg
// is not installed here to decode it independently).
func TestQRImageMatchesEncoder(t *testing.T) {
	img, err := trust.QRImage(ownURI, 3)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	dec, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	code, err := qr.Encode(ownURI, qr.M)
	if err != nil {
		t.Fatal(err)
	}
	side := (code.Size + 8) * 3
	if b := dec.Bounds(); b.Dx() != side || b.Dy() != side {
		t.Fatalf("image is %v, want %d square", b, side)
	}
	for y := -4; y < code.Size+4; y++ {
		for x := -4; x < code.Size+4; x++ {
			r, _, _, _ := dec.At((x+4)*3+1, (y+4)*3+1).RGBA()
			if black := r < 0x8000; black != code.Black(x, y) {
				t.Fatalf("module (%d,%d): black %v, want %v", x, y, black, code.Black(x, y))
			}
		}
	}
	// The three finder patterns sit in the corners (a QR code, not noise).
	for _, c := range [][2]int{{0, 0}, {code.Size - 7, 0}, {0, code.Size - 7}} {
		if !code.Black(c[0], c[1]) || !code.Black(c[0]+3, c[1]+3) || code.Black(c[0]+1, c[1]+1) {
			t.Fatalf("no finder pattern at %v", c)
		}
	}
}

// findButtons returns the visible buttons labelled text under o.
func findButtons(t *testing.T, o fyne.CanvasObject, text string) []*widget.Button {
	if !o.Visible() {
		return nil
	}
	if b, ok := o.(*widget.Button); ok && b.Text == text {
		return []*widget.Button{b}
	}
	var children []fyne.CanvasObject
	switch v := o.(type) {
	case *fyne.Container:
		children = v.Objects
	case fyne.Widget:
		children = test.TempWidgetRenderer(t, v).Objects()
	}
	var out []*widget.Button
	for _, c := range children {
		out = append(out, findButtons(t, c, text)...)
	}
	return out
}
