package widgets

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// Entry is a one-line text entry for the screens shown over the main
// window: a focused entry receives the keyboard shortcuts instead of the
// window, so it offers them to OnShortcut first (the window's Ctrl+W,
// Ctrl+F, …), and Escape calls OnEscape (closing the screen).
type Entry struct {
	widget.Entry
	// OnShortcut is offered every shortcut first; it reports whether it
	// handled it. Nil: the entry's own shortcuts only.
	OnShortcut func(fyne.Shortcut) bool
	// OnEscape is called when Escape is pressed; nil ignores Escape.
	OnEscape func()
}

// NewEntry returns an empty one-line entry.
func NewEntry() *Entry {
	e := &Entry{}
	e.ExtendBaseWidget(e)
	return e
}

// TypedShortcut implements fyne.Shortcutable.
func (e *Entry) TypedShortcut(s fyne.Shortcut) {
	if e.OnShortcut != nil && e.OnShortcut(s) {
		return
	}
	e.Entry.TypedShortcut(s)
}

// TypedKey implements fyne.Focusable.
func (e *Entry) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape && e.OnEscape != nil {
		e.OnEscape()
		return
	}
	e.Entry.TypedKey(k)
}
