package widgets

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// Progress is an infinite progress bar that animates only while it is
// shown. Fyne's ProgressBarInfinite starts its animation whenever its
// renderer is made, also for a hidden bar whose size a layout asks for,
// and its Hide does not stop the animation: either way it then repaints
// the window 60 times a second, forever. Create it with NewProgress; Show
// and Hide start and stop it.
type Progress struct {
	widget.ProgressBarInfinite
}

// NewProgress returns a hidden, still progress bar.
func NewProgress() *Progress {
	p := &Progress{}
	p.ExtendBaseWidget(p)
	p.Hide()
	return p
}

// CreateRenderer implements fyne.Widget.
func (p *Progress) CreateRenderer() fyne.WidgetRenderer {
	r := p.ProgressBarInfinite.CreateRenderer()
	if !p.Visible() {
		// The embedded bar's Hide clears its running flag (the base
		// widget is hidden already); the renderer's Refresh then stops
		// the animation CreateRenderer started.
		p.ProgressBarInfinite.Hide()
		r.Refresh()
	}
	return r
}

// Hide implements fyne.CanvasObject: it stops the animation too.
func (p *Progress) Hide() {
	// Stop first: the embedded Hide clears the running flag that Stop
	// checks, without telling the renderer.
	p.Stop()
	p.ProgressBarInfinite.Hide()
}
