//go:build ignore

// Command genicon draws Tern's application icon, a tern flying across a
// speech bubble on a calm blue tile, and writes it as a 512×512 PNG.
//
//	go run scripts/genicon.go assets/icon.png
//
// It is run by hand when the icon changes; the PNG is committed.
package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"

	"golang.org/x/image/vector"
)

const size = 512

// gradient is a vertical linear gradient from top to bottom.
type gradient struct{ top, bottom color.NRGBA }

func (g gradient) ColorModel() color.Model { return color.NRGBAModel }
func (g gradient) Bounds() image.Rectangle { return image.Rect(-1e9, -1e9, 1e9, 1e9) }
func (g gradient) At(x, y int) color.Color {
	t := math.Min(1, math.Max(0, float64(y)/size))
	mix := func(a, b uint8) uint8 { return uint8(math.Round(float64(a)*(1-t) + float64(b)*t)) }
	return color.NRGBA{mix(g.top.R, g.bottom.R), mix(g.top.G, g.bottom.G), mix(g.top.B, g.bottom.B), 255}
}

// roundRect adds a rounded rectangle to r as one closed path.
func roundRect(r *vector.Rasterizer, x0, y0, x1, y1, rad float32) {
	const k = 0.5523 // cubic approximation of a quarter circle
	r.MoveTo(x0+rad, y0)
	r.LineTo(x1-rad, y0)
	r.CubeTo(x1-rad+rad*k, y0, x1, y0+rad-rad*k, x1, y0+rad)
	r.LineTo(x1, y1-rad)
	r.CubeTo(x1, y1-rad+rad*k, x1-rad+rad*k, y1, x1-rad, y1)
	r.LineTo(x0+rad, y1)
	r.CubeTo(x0+rad-rad*k, y1, x0, y1-rad+rad*k, x0, y1-rad)
	r.LineTo(x0, y0+rad)
	r.CubeTo(x0, y0+rad-rad*k, x0+rad-rad*k, y0, x0+rad, y0)
	r.ClosePath()
}

// pen draws on a rasterizer with every point moved by (dx, dy).
type pen struct {
	r      *vector.Rasterizer
	dx, dy float32
}

func (p pen) MoveTo(x, y float32) { p.r.MoveTo(x+p.dx, y+p.dy) }
func (p pen) CubeTo(x1, y1, x2, y2, x3, y3 float32) {
	p.r.CubeTo(x1+p.dx, y1+p.dy, x2+p.dx, y2+p.dy, x3+p.dx, y3+p.dy)
}
func (p pen) ClosePath() { p.r.ClosePath() }

func fill(dst draw.Image, src image.Image, path func(r *vector.Rasterizer)) {
	r := vector.NewRasterizer(size, size)
	r.DrawOp = draw.Over
	path(r)
	r.Draw(dst, dst.Bounds(), src, image.Point{})
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run scripts/genicon.go OUT.png")
		os.Exit(2)
	}
	img := image.NewNRGBA(image.Rect(0, 0, size, size))

	// The tile: a rounded square in a calm blue gradient.
	tile := gradient{top: color.NRGBA{0x5B, 0x9B, 0xDE, 0xFF}, bottom: color.NRGBA{0x23, 0x5F, 0xAE, 0xFF}}
	fill(img, tile, func(r *vector.Rasterizer) { roundRect(r, 16, 16, 496, 496, 112) })

	// A soft shadow under the bubble, then the white bubble with its tail.
	shadow := image.NewUniform(color.NRGBA{0x10, 0x33, 0x66, 0x40})
	bubble := func(dx, dy float32) func(r *vector.Rasterizer) {
		return func(r *vector.Rasterizer) {
			roundRect(r, 78+dx, 100+dy, 434+dx, 360+dy, 84)
			// The tail winds the same way as the rectangle so the two
			// areas add up instead of cancelling.
			r.MoveTo(150+dx, 330+dy)
			r.LineTo(240+dx, 350+dy)
			r.CubeTo(214+dx, 392+dy, 170+dx, 420+dy, 112+dx, 428+dy)
			r.CubeTo(136+dx, 404+dy, 150+dx, 372+dy, 150+dx, 330+dy)
			r.ClosePath()
		}
	}
	fill(img, shadow, bubble(0, 10))
	fill(img, image.NewUniform(color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF}), bubble(0, 0))

	// The tern: slender body flying right, raised swept wings, forked tail.
	ink := gradient{top: color.NRGBA{0x3A, 0x82, 0xD0, 0xFF}, bottom: color.NRGBA{0x1E, 0x56, 0xA0, 0xFF}}
	fill(img, ink, func(r *vector.Rasterizer) {
		p := pen{r: r, dx: 0, dy: 18}
		// Far wing, behind the body (every subpath winds the same way).
		p.MoveTo(326, 226)
		p.CubeTo(326, 190, 320, 150, 300, 112)
		p.CubeTo(282, 150, 286, 190, 296, 226)
		p.ClosePath()
		// Body, head and beak.
		p.MoveTo(394, 212) // beak tip
		p.CubeTo(378, 206, 364, 198, 350, 198)
		p.CubeTo(330, 198, 318, 206, 304, 216)
		p.CubeTo(276, 234, 240, 242, 210, 246)
		// Forked tail: upper streamer, notch, lower streamer.
		p.CubeTo(186, 236, 160, 220, 126, 198)
		p.CubeTo(150, 226, 170, 244, 190, 256)
		p.CubeTo(170, 266, 150, 280, 130, 298)
		p.CubeTo(168, 286, 196, 274, 220, 266)
		// Belly back to the chin.
		p.CubeTo(264, 266, 318, 254, 348, 234)
		p.CubeTo(360, 226, 376, 218, 394, 212)
		p.ClosePath()
		// Near wing, raised and swept back to a fine tip.
		p.MoveTo(316, 218)
		p.CubeTo(300, 176, 264, 140, 198, 118)
		p.CubeTo(236, 150, 260, 190, 270, 236)
		p.ClosePath()
	})

	// A small white eye gives the bird a face.
	fill(img, image.NewUniform(color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF}), func(r *vector.Rasterizer) {
		roundRect(r, 353, 219, 362, 228, 4.5)
	})

	f, err := os.Create(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(f, img); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
