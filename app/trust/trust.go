// Package trust is Tern's encryption screen (OMEMO, XEP-0384): a contact's
// devices with their fingerprints and trust controls, our own fingerprint
// with a QR code of its verification URI (xmpp:…?omemo-sid-…, the format
// Conversations scans), and warnings for new or changed devices. The
// engine does the work through Engine; the screen's widgets are only
// touched on the Fyne thread, and engine calls run on goroutines it owns.
package trust

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"strings"

	"rsc.io/qr"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
)

// Engine is what the encryption screens ask of an account's engine.
// *client.Client implements it.
type Engine interface {
	// OwnFingerprint returns our device's id and its fingerprint.
	OwnFingerprint(ctx context.Context) (uint32, string, error)
	// OwnURI returns the verification URI of our device.
	OwnURI(ctx context.Context) (string, error)
	// Devices returns the devices of owner with their keys and trust.
	Devices(ctx context.Context, owner jid.JID) ([]client.DeviceInfo, error)
	// SetTrust records the user's decision about owner's device(s) with
	// the fingerprint fp.
	SetTrust(ctx context.Context, owner jid.JID, fp string, t client.DeviceTrust) error
	// SetEncryption sets a conversation's encryption policy.
	SetEncryption(ctx context.Context, conv client.ConversationID, p client.EncryptionPolicy) error
	// Encrypts reports whether the next message to peer is encrypted.
	Encrypts(ctx context.Context, peer jid.JID) (bool, error)
}

// FormatFingerprint shows a fingerprint in groups of 8 hex digits, four
// groups a line (a 64-digit fingerprint takes two lines).
func FormatFingerprint(fp string) string {
	var b strings.Builder
	for i := 0; i < len(fp); i += 8 {
		switch {
		case i == 0:
		case i%32 == 0:
			b.WriteByte('\n')
		default:
			b.WriteByte(' ')
		}
		b.WriteString(fp[i:min(i+8, len(fp))])
	}
	return b.String()
}

// quietZone is the white margin around a QR code, in modules (ISO/IEC
// 18004 asks for four).
const quietZone = 4

// QRImage returns the QR code of text (error correction level M) as a
// black-on-white image with scale pixels per module and a quiet zone.
func QRImage(text string, scale int) (*image.Gray, error) {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return nil, fmt.Errorf("trust: QR code: %w", err)
	}
	scale = max(scale, 1)
	side := (code.Size + 2*quietZone) * scale
	img := image.NewGray(image.Rect(0, 0, side, side))
	for y := range side {
		for x := range side {
			mx, my := x/scale-quietZone, y/scale-quietZone
			c := color.Gray{Y: 0xff}
			if code.Black(mx, my) {
				c = color.Gray{Y: 0}
			}
			img.SetGray(x, y, c)
		}
	}
	return img, nil
}

// Warning describes what needs the user's attention about a device: a
// changed identity key, or a new device not trusted yet ("" for nothing).
func Warning(d client.DeviceInfo) string {
	k, ok := d.Current()
	switch {
	case !ok || d.Own:
		return ""
	case len(d.Keys) > 1 && k.Trust == client.DeviceUndecided:
		return ChangedWarning
	case k.Trust == client.DeviceUndecided:
		return NewWarning
	}
	return ""
}

// The warnings about devices.
const (
	// ChangedWarning: the device presents another identity key than
	// before. It may be a reinstall, or someone else.
	ChangedWarning = "This device's identity key changed. Compare the fingerprint with the contact before trusting it."
	// NewWarning: a new device waits for the user's decision (the contact
	// has verified devices, so new ones are not trusted blindly).
	NewWarning = "New device: messages are not encrypted for it until you trust it."
)

// TrustText names a decision for the user.
func TrustText(t client.DeviceTrust) string {
	switch t {
	case client.DeviceUndecided:
		return "not trusted yet"
	case client.DeviceBlind:
		return "trusted (not verified)"
	case client.DeviceVerified:
		return "verified"
	case client.DeviceDistrusted:
		return "distrusted"
	}
	return "unknown"
}
