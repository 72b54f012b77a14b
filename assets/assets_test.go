package assets_test

import (
	"bytes"
	"image/png"
	"testing"

	"github.com/tern-im/tern/assets"
)

func TestIconIsSquare512PNG(t *testing.T) {
	img, err := png.Decode(bytes.NewReader(assets.Icon))
	if err != nil {
		t.Fatalf("decode embedded icon: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 512 || b.Dy() != 512 {
		t.Fatalf("icon is %dx%d, want 512x512", b.Dx(), b.Dy())
	}
	// The corners are outside the rounded tile and must be transparent so the
	// icon sits cleanly on any desktop background.
	if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
		t.Errorf("top-left corner alpha = %d, want 0", a)
	}
	// The centre of the tile is opaque.
	if _, _, _, a := img.At(256, 440).RGBA(); a != 0xffff {
		t.Errorf("tile alpha at (256,440) = %d, want opaque", a)
	}
}
