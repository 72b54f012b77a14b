package widgets

import (
	"image/color"
	"strings"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// Avatar colour parameters: XEP-0392 leaves saturation and lightness to the
// implementation; these keep white initials readable on every hue.
const (
	avatarSaturation = 80
	avatarLightness  = 50
)

// Avatar is a round avatar showing the initials of a name on a background in
// the XEP-0392 consistent colour of an identifier (a bare JID).
type Avatar struct {
	widget.BaseWidget
	size     float32
	circle   *canvas.Circle
	initials *canvas.Text
	id       string
}

// NewAvatar returns an avatar of the given diameter for id, labelled with
// the initials of name.
func NewAvatar(id, name string, size float32) *Avatar {
	a := &Avatar{
		size:     size,
		circle:   canvas.NewCircle(color.Transparent),
		initials: canvas.NewText("", color.White),
	}
	a.initials.TextStyle.Bold = true
	a.initials.TextSize = size * 0.4
	a.initials.Alignment = fyne.TextAlignCenter
	a.ExtendBaseWidget(a)
	a.Set(id, name)
	return a
}

// Set changes the identifier and name the avatar shows.
func (a *Avatar) Set(id, name string) {
	a.id = id
	a.circle.FillColor = ConsistentColour(id, avatarSaturation, avatarLightness)
	a.initials.Text = Initials(name)
	a.Refresh()
}

// ID returns the identifier whose colour the avatar shows.
func (a *Avatar) ID() string { return a.id }

// Initials returns the text of the avatar.
func (a *Avatar) Initials() string { return a.initials.Text }

// CreateRenderer implements fyne.Widget.
func (a *Avatar) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewStack(a.circle, container.NewCenter(a.initials)))
}

// MinSize implements fyne.CanvasObject.
func (a *Avatar) MinSize() fyne.Size { return fyne.NewSquareSize(a.size) }

// Initials returns up to two upper-case initials of a name or an address:
// the first letters of its first two words, where an address counts its
// local part only ("juliet@capulet.lit" → "J", "Juliet Capulet" → "JC").
func Initials(name string) string {
	if local, _, ok := strings.Cut(name, "@"); ok && local != "" {
		name = local
	}
	var out []rune
	for _, w := range strings.FieldsFunc(name, func(r rune) bool {
		return unicode.IsSpace(r) || r == '.' || r == '_' || r == '-'
	}) {
		for _, r := range w {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				out = append(out, unicode.ToUpper(r))
				break
			}
		}
		if len(out) == 2 {
			break
		}
	}
	if len(out) == 0 {
		return "?"
	}
	return string(out)
}
