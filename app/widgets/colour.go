// Package widgets holds Tern's reusable Fyne widgets: the avatar with
// initials in an XEP-0392 consistent colour, and the message row of a chat
// timeline (bubble, delivery state, XEP-0308 "edited", XEP-0424
// retraction placeholder).
package widgets

import (
	"crypto/sha1" // XEP-0392 §5.1 specifies SHA-1; it is not used for security here.
	"encoding/binary"
	"image/color"
	"math"
)

// Hue returns the XEP-0392 (§5.1) hue angle of an identifier, in degrees
// [0, 360): the first two octets of its SHA-1 as a little-endian 16-bit
// number, scaled to a circle. Pass a JID as its canonical string.
func Hue(id string) float64 {
	sum := sha1.Sum([]byte(id))
	return float64(binary.LittleEndian.Uint16(sum[:2])) / 65536 * 360
}

// ConsistentColour returns the XEP-0392 colour of an identifier: its hue
// (Hue) converted with HSLuv at the given saturation and lightness (both
// 0–100), as XEP-0392 §5.2 specifies.
func ConsistentColour(id string, saturation, lightness float64) color.NRGBA {
	r, g, b := HSLuvToRGB(Hue(id), saturation, lightness)
	c := func(v float64) uint8 { return uint8(math.Round(min(max(v, 0), 1) * 255)) }
	return color.NRGBA{R: c(r), G: c(g), B: c(b), A: 0xff}
}

// HSLuv (www.hsluv.org) constants: the sRGB matrix (XYZ to linear RGB), the
// D65 white point in u'v', and the CIE L* constants.
var hsluvM = [3][3]float64{
	{3.240969941904521, -1.537383177570093, -0.498610760293},
	{-0.96924363628087, 1.87596750150772, 0.041555057407175},
	{0.055630079696993, -0.20397695888897, 1.056971514242878},
}

const (
	hsluvRefU    = 0.19783000664283
	hsluvRefV    = 0.46831999493879
	hsluvKappa   = 903.2962962
	hsluvEpsilon = 0.0088564516
)

// HSLuvToRGB converts an HSLuv colour (hue in degrees, saturation and
// lightness 0–100) to sRGB components in [0, 1].
func HSLuvToRGB(h, s, l float64) (r, g, b float64) {
	// HSLuv → LCh(uv): the chroma is s% of the largest in gamut for l, h.
	var c float64
	switch {
	case l > 99.9999999:
		l = 100
	case l < 1e-8:
		l = 0
	default:
		c = maxChroma(l, h) / 100 * s
	}
	// LCh → Luv → XYZ.
	hr := h / 180 * math.Pi
	u, v := c*math.Cos(hr), c*math.Sin(hr)
	var x, y, z float64
	if l != 0 {
		varU := u/(13*l) + hsluvRefU
		varV := v/(13*l) + hsluvRefV
		y = lToY(l)
		x = -(9 * y * varU) / ((varU-4)*varV - varU*varV)
		z = (9*y - 15*varV*y - varV*x) / (3 * varV)
	}
	// XYZ → linear RGB → sRGB.
	lin := func(row [3]float64) float64 {
		v := row[0]*x + row[1]*y + row[2]*z
		if v <= 0.0031308 {
			return 12.92 * v
		}
		return 1.055*math.Pow(v, 1/2.4) - 0.055
	}
	return lin(hsluvM[0]), lin(hsluvM[1]), lin(hsluvM[2])
}

// lToY converts CIE L* to Y.
func lToY(l float64) float64 {
	if l <= 8 {
		return l / hsluvKappa
	}
	return math.Pow((l+16)/116, 3)
}

// maxChroma returns the largest chroma in the sRGB gamut for lightness l and
// hue h (degrees): the nearest of the six gamut boundary lines along the
// hue's ray.
func maxChroma(l, h float64) float64 {
	hr := h / 180 * math.Pi
	sub1 := math.Pow(l+16, 3) / 1560896
	sub2 := sub1
	if sub1 <= hsluvEpsilon {
		sub2 = l / hsluvKappa
	}
	best := math.MaxFloat64
	for _, m := range hsluvM {
		for t := range 2 {
			tf := float64(t)
			top1 := (284517*m[0] - 94839*m[2]) * sub2
			top2 := (838422*m[2]+769860*m[1]+731718*m[0])*l*sub2 - 769860*tf*l
			bottom := (632260*m[2]-126452*m[1])*sub2 + 126452*tf
			slope, intercept := top1/bottom, top2/bottom
			if length := intercept / (math.Sin(hr) - slope*math.Cos(hr)); length >= 0 {
				best = min(best, length)
			}
		}
	}
	return best
}
