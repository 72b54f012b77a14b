package account

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/tern-im/tern/app/widgets"
)

// activity is what a form shows while it waits on the network: a progress
// bar, a cancel button and a status line. Fyne thread only.
type activity struct {
	progress *widgets.Progress
	cancel   *widget.Button
	status   *widget.Label
}

// setBusy switches between editing (inputs enabled) and waiting (inputs
// disabled, progress and cancel shown).
func (a *activity) setBusy(busy bool, inputs ...fyne.Disableable) {
	for _, w := range inputs {
		if busy {
			w.Disable()
		} else {
			w.Enable()
		}
	}
	for _, o := range []fyne.CanvasObject{a.progress, a.cancel} {
		if busy {
			o.Show()
		} else {
			o.Hide()
		}
	}
}

// show puts msg in the status line.
func (a *activity) show(msg string, importance widget.Importance) {
	a.status.Importance = importance
	a.status.SetText(msg)
	a.status.Show()
}
