// Command bare is the baseline of Tern's GUI benchmarks (BENCHMARKS.md): a
// bare Fyne window with one label, built with the same toolchain and
// driver as cmd/tern, titled "Bare". Like Tern, it writes a timing marker
// to standard error when the window first paints its content:
// "drawn since_start=DURATION".
package main

import (
	"fmt"
	"image"
	"os"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

func main() {
	start := time.Now()
	a := fyneapp.NewWithID("im.tern.Bare")
	w := a.NewWindow("Bare")
	// One transparent pixel whose image is made when it is first drawn,
	// as Tern's marker (app.Deps.OnDrawn) does.
	var once sync.Once
	px := image.NewNRGBA(image.Rect(0, 0, 1, 1))
	marker := canvas.NewRaster(func(int, int) image.Image {
		once.Do(func() { fmt.Fprintf(os.Stderr, "drawn since_start=%s\n", time.Since(start)) })
		return px
	})
	marker.Resize(fyne.NewSize(1, 1))
	w.SetContent(container.NewStack(widget.NewLabel("Hello"), container.NewWithoutLayout(marker)))
	w.ShowAndRun()
}
