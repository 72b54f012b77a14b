// Package theme is Tern's fyne.Theme: Fyne's default theme with a calm blue
// palette, in a light and a dark variant. By default it follows the desktop's
// light/dark preference; NewVariant fixes one.
package theme

import (
	"image/color"

	"fyne.io/fyne/v2"
	fynetheme "fyne.io/fyne/v2/theme"
)

// Theme is Tern's theme. It embeds Fyne's default theme, which supplies
// fonts, icons, sizes and every colour Tern does not choose itself.
type Theme struct {
	fyne.Theme

	variant fyne.ThemeVariant // used instead of the requested variant when fixed is set
	fixed   bool
}

var _ fyne.Theme = (*Theme)(nil)

// New returns Tern's theme following the desktop's light/dark preference.
func New() *Theme {
	return &Theme{Theme: fynetheme.DefaultTheme()}
}

// NewVariant returns Tern's theme always in variant v
// (fynetheme.VariantLight or fynetheme.VariantDark).
func NewVariant(v fyne.ThemeVariant) *Theme {
	return &Theme{Theme: fynetheme.DefaultTheme(), variant: v, fixed: true}
}

// Color returns Tern's colour for n in variant v (or in the fixed variant),
// falling back to Fyne's default theme for colours Tern does not set.
func (t *Theme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if t.fixed {
		v = t.variant
	}
	if c, ok := palette(n, v == fynetheme.VariantDark); ok {
		return c
	}
	return t.Theme.Color(n, v)
}

func rgb(hex uint32) color.NRGBA {
	return color.NRGBA{R: uint8(hex >> 16), G: uint8(hex >> 8), B: uint8(hex), A: 0xff}
}

func withAlpha(c color.NRGBA, a uint8) color.NRGBA {
	c.A = a
	return c
}

// palette holds Tern's own colours. Text colours keep a contrast ratio of at
// least 4.5:1 (WCAG AA) on their backgrounds.
func palette(n fyne.ThemeColorName, dark bool) (color.Color, bool) {
	pick := func(l, d color.NRGBA) (color.Color, bool) {
		if dark {
			return d, true
		}
		return l, true
	}
	// The accent: the icon's tile blue on light, a lighter blue on dark.
	primary := rgb(0x2F6DB5)
	if dark {
		primary = rgb(0x74AEEB)
	}
	switch n {
	case fynetheme.ColorNamePrimary, fynetheme.ColorNameHyperlink:
		return primary, true
	case fynetheme.ColorNameFocus:
		return withAlpha(primary, 0x66), true
	case fynetheme.ColorNameSelection:
		return withAlpha(primary, 0x40), true
	case fynetheme.ColorNameForegroundOnPrimary:
		return pick(rgb(0xFFFFFF), rgb(0x0D1B2A))
	case fynetheme.ColorNameBackground:
		return pick(rgb(0xF5F8FC), rgb(0x141C26))
	case fynetheme.ColorNameForeground:
		return pick(rgb(0x1F2933), rgb(0xE4E9F0))
	case fynetheme.ColorNamePlaceHolder:
		return pick(rgb(0x6B7785), rgb(0x93A1B2))
	case fynetheme.ColorNameDisabled:
		// Low-importance text (times, previews, day separators) uses
		// it: readable, but quieter than the placeholder.
		return pick(rgb(0x7D8896), rgb(0x7F8DA0))
	case fynetheme.ColorNameInputBackground:
		return pick(rgb(0xFFFFFF), rgb(0x1C2733))
	case fynetheme.ColorNameInputBorder:
		return pick(rgb(0xCFD9E6), rgb(0x2F3F52))
	case fynetheme.ColorNameButton:
		return pick(rgb(0xE6EDF6), rgb(0x243244))
	case fynetheme.ColorNameSeparator:
		return pick(rgb(0xDDE5EF), rgb(0x263446))
	case fynetheme.ColorNameHeaderBackground:
		return pick(rgb(0xEEF3F9), rgb(0x18212C))
	case fynetheme.ColorNameMenuBackground, fynetheme.ColorNameOverlayBackground:
		return pick(rgb(0xFFFFFF), rgb(0x1A2430))
	case fynetheme.ColorNameError:
		return pick(rgb(0xC62828), rgb(0xFF8A80))
	case fynetheme.ColorNameSuccess:
		return pick(rgb(0x2E7D32), rgb(0x81C784))
	}
	return nil, false
}
