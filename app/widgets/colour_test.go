package widgets_test

import (
	"math"
	"testing"

	"github.com/tern-im/tern/app/widgets"
)

// The test vectors of XEP-0392 §A (version 1.0.1): angle, and RGB at
// saturation 100 and lightness 50, to three decimals.
func TestXEP0392Vectors(t *testing.T) {
	for _, tc := range []struct {
		text    string
		hue     float64
		r, g, b float64
	}{
		{"Romeo", 327.255249, 0.865, 0.000, 0.686},
		{"juliet@capulet.lit", 209.410400, 0.000, 0.515, 0.573},
		{"😺", 331.199341, 0.872, 0.000, 0.659},
		{"council", 359.994507, 0.918, 0.000, 0.394},
		{"Board", 171.430664, 0.000, 0.527, 0.457},
	} {
		h := widgets.Hue(tc.text)
		if math.Abs(h-tc.hue) > 1e-5 {
			t.Errorf("Hue(%q) = %f, want %f", tc.text, h, tc.hue)
		}
		r, g, b := widgets.HSLuvToRGB(h, 100, 50)
		if math.Abs(r-tc.r) > 0.0006 || math.Abs(g-tc.g) > 0.0006 || math.Abs(b-tc.b) > 0.0006 {
			t.Errorf("HSLuvToRGB(%q) = %.3f %.3f %.3f, want %.3f %.3f %.3f", tc.text, r, g, b, tc.r, tc.g, tc.b)
		}
		c := widgets.ConsistentColour(tc.text, 100, 50)
		if math.Abs(float64(c.R)-tc.r*255) > 1 || c.A != 0xff {
			t.Errorf("ConsistentColour(%q) = %v", tc.text, c)
		}
	}
}

func TestHSLuvExtremes(t *testing.T) {
	for _, tc := range []struct{ l, want float64 }{{0, 0}, {100, 1}} {
		r, g, b := widgets.HSLuvToRGB(120, 100, tc.l)
		if math.Abs(r-tc.want) > 1e-3 || math.Abs(g-tc.want) > 1e-3 || math.Abs(b-tc.want) > 1e-3 {
			t.Errorf("lightness %v: %v %v %v", tc.l, r, g, b)
		}
	}
}
