package widgets

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tern-im/tern/app/model"
)

// Badge is a count in a pill of the accent colour (unread messages).
type Badge struct {
	widget.BaseWidget
	pill *canvas.Rectangle
	text *canvas.Text
}

// NewBadge returns an empty badge.
func NewBadge() *Badge {
	b := &Badge{
		pill: canvas.NewRectangle(theme.Color(theme.ColorNamePrimary)),
		text: canvas.NewText("", theme.Color(theme.ColorNameForegroundOnPrimary)),
	}
	b.text.TextStyle.Bold = true
	b.text.TextSize = theme.CaptionTextSize()
	b.text.Alignment = fyne.TextAlignCenter
	b.ExtendBaseWidget(b)
	return b
}

// SetText sets the count shown.
func (b *Badge) SetText(s string) {
	b.text.Text = s
	b.Refresh()
}

// Text returns the count shown.
func (b *Badge) Text() string { return b.text.Text }

// Refresh implements fyne.Widget: it follows theme changes.
func (b *Badge) Refresh() {
	b.pill.FillColor = theme.Color(theme.ColorNamePrimary)
	b.text.Color = theme.Color(theme.ColorNameForegroundOnPrimary)
	b.text.TextSize = theme.CaptionTextSize()
	b.BaseWidget.Refresh()
}

// MinSize implements fyne.CanvasObject.
func (b *Badge) MinSize() fyne.Size {
	ts := b.text.MinSize()
	h := ts.Height + 2
	return fyne.NewSize(max(h, ts.Width+h/2+2), h)
}

// CreateRenderer implements fyne.Widget.
func (b *Badge) CreateRenderer() fyne.WidgetRenderer {
	b.pill.CornerRadius = 9
	return widget.NewSimpleRenderer(container.NewStack(b.pill, container.NewCenter(b.text)))
}

// PresenceColour is the colour of a presence dot.
func PresenceColour(p model.Presence) color.Color {
	switch p {
	case model.PresenceOnline:
		return theme.Color(theme.ColorNameSuccess)
	case model.PresenceAway:
		return theme.Color(theme.ColorNameWarning)
	case model.PresenceDND:
		return theme.Color(theme.ColorNameError)
	}
	return color.Transparent
}

// PresenceDot is an avatar with a dot at its lower right showing the
// contact's presence (none when offline).
type PresenceDot struct {
	widget.BaseWidget
	Avatar   *Avatar
	ring     *canvas.Circle
	dot      *canvas.Circle
	presence model.Presence
}

// NewPresenceDot returns an avatar of the given size with a presence dot.
func NewPresenceDot(size float32) *PresenceDot {
	d := &PresenceDot{Avatar: NewAvatar("", "", size), ring: canvas.NewCircle(color.Transparent), dot: canvas.NewCircle(color.Transparent)}
	d.ExtendBaseWidget(d)
	return d
}

// SetPresence sets the presence shown.
func (d *PresenceDot) SetPresence(p model.Presence) {
	d.presence = p
	d.Refresh()
}

// Presence returns the presence shown.
func (d *PresenceDot) Presence() model.Presence { return d.presence }

// Refresh implements fyne.Widget.
func (d *PresenceDot) Refresh() {
	d.dot.FillColor = PresenceColour(d.presence)
	d.ring.FillColor = color.Transparent
	if d.presence != model.PresenceOffline {
		d.ring.FillColor = theme.Color(theme.ColorNameBackground)
	}
	d.BaseWidget.Refresh()
}

// MinSize implements fyne.CanvasObject.
func (d *PresenceDot) MinSize() fyne.Size { return d.Avatar.MinSize() }

// CreateRenderer implements fyne.Widget.
func (d *PresenceDot) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.New(dotLayout{}, d.Avatar, d.ring, d.dot))
}

// dotLayout puts the avatar in the whole space and the dot (with a ring of
// the background colour) at its lower right.
type dotLayout struct{}

func (dotLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	objs[0].Resize(size)
	objs[0].Move(fyne.Position{})
	d := size.Width * 0.32
	ring := d + 4
	objs[1].Resize(fyne.NewSquareSize(ring))
	objs[1].Move(fyne.NewPos(size.Width-ring+1, size.Height-ring+1))
	objs[2].Resize(fyne.NewSquareSize(d))
	objs[2].Move(fyne.NewPos(size.Width-ring+3, size.Height-ring+3))
}

func (dotLayout) MinSize(objs []fyne.CanvasObject) fyne.Size { return objs[0].MinSize() }
