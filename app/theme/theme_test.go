package theme_test

import (
	"image/color"
	"math"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	fynetheme "fyne.io/fyne/v2/theme"

	"github.com/tern-im/tern/app/theme"
)

func nrgba(c color.Color) color.NRGBA {
	return color.NRGBAModel.Convert(c).(color.NRGBA)
}

// luminance is the WCAG 2 relative luminance of an opaque colour.
func luminance(c color.NRGBA) float64 {
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.R) + 0.7152*lin(c.G) + 0.0722*lin(c.B)
}

func contrast(a, b color.Color) float64 {
	la, lb := luminance(nrgba(a)), luminance(nrgba(b))
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

var variants = []struct {
	name string
	v    fyne.ThemeVariant
}{
	{"light", fynetheme.VariantLight},
	{"dark", fynetheme.VariantDark},
}

func TestTextIsReadable(t *testing.T) {
	test.NewTempApp(t) // the default theme reads the app\'s settings
	th := theme.New()
	pairs := []struct {
		fg, bg fyne.ThemeColorName
		min    float64
	}{
		{fynetheme.ColorNameForeground, fynetheme.ColorNameBackground, 7},
		{fynetheme.ColorNameForeground, fynetheme.ColorNameInputBackground, 7},
		{fynetheme.ColorNameForeground, fynetheme.ColorNameButton, 4.5},
		{fynetheme.ColorNamePlaceHolder, fynetheme.ColorNameInputBackground, 4.5},
		{fynetheme.ColorNameForegroundOnPrimary, fynetheme.ColorNamePrimary, 4.5},
		{fynetheme.ColorNameError, fynetheme.ColorNameBackground, 4.5},
		{fynetheme.ColorNameSuccess, fynetheme.ColorNameBackground, 4.5},
		{fynetheme.ColorNameHyperlink, fynetheme.ColorNameBackground, 4.5},
	}
	for _, v := range variants {
		for _, p := range pairs {
			got := contrast(th.Color(p.fg, v.v), th.Color(p.bg, v.v))
			if got < p.min {
				t.Errorf("%s: %s on %s contrast %.2f, want >= %.1f", v.name, p.fg, p.bg, got, p.min)
			}
		}
	}
}

func TestLightAndDarkDiffer(t *testing.T) {
	test.NewTempApp(t) // the default theme reads the app\'s settings
	th := theme.New()
	for _, n := range []fyne.ThemeColorName{fynetheme.ColorNameBackground, fynetheme.ColorNameForeground, fynetheme.ColorNamePrimary} {
		light, dark := nrgba(th.Color(n, fynetheme.VariantLight)), nrgba(th.Color(n, fynetheme.VariantDark))
		if light == dark {
			t.Errorf("%s is %v in both variants", n, light)
		}
	}
	// Dark backgrounds are dark and light ones light.
	if l := luminance(nrgba(th.Color(fynetheme.ColorNameBackground, fynetheme.VariantDark))); l > 0.05 {
		t.Errorf("dark background luminance %.3f, want <= 0.05", l)
	}
	if l := luminance(nrgba(th.Color(fynetheme.ColorNameBackground, fynetheme.VariantLight))); l < 0.85 {
		t.Errorf("light background luminance %.3f, want >= 0.85", l)
	}
}

func TestPrimaryIsCalmBlue(t *testing.T) {
	test.NewTempApp(t) // the default theme reads the app\'s settings
	for _, v := range variants {
		c := nrgba(theme.New().Color(fynetheme.ColorNamePrimary, v.v))
		if !(c.B > c.G && c.G > c.R) {
			t.Errorf("%s primary %v is not a blue", v.name, c)
		}
		if c == nrgba(fynetheme.DefaultTheme().Color(fynetheme.ColorNamePrimary, v.v)) {
			t.Errorf("%s primary is Fyne's default; want Tern's own", v.name)
		}
	}
}

func TestNewVariantFixesTheVariant(t *testing.T) {
	test.NewTempApp(t) // the default theme reads the app\'s settings
	dark := theme.NewVariant(fynetheme.VariantDark)
	follow := theme.New()
	for _, n := range []fyne.ThemeColorName{fynetheme.ColorNameBackground, fynetheme.ColorNameScrollBar} {
		got := nrgba(dark.Color(n, fynetheme.VariantLight))
		want := nrgba(follow.Color(n, fynetheme.VariantDark))
		if got != want {
			t.Errorf("NewVariant(dark).Color(%s, light) = %v, want the dark %v", n, got, want)
		}
	}
	light := theme.NewVariant(fynetheme.VariantLight)
	if got, want := nrgba(light.Color(fynetheme.ColorNameBackground, fynetheme.VariantDark)), nrgba(follow.Color(fynetheme.ColorNameBackground, fynetheme.VariantLight)); got != want {
		t.Errorf("NewVariant(light) background = %v, want %v", got, want)
	}
}

func TestEverythingElseIsFynesDefault(t *testing.T) {
	test.NewTempApp(t) // the default theme reads the app\'s settings
	th, def := theme.New(), fynetheme.DefaultTheme()
	// A colour Tern does not set.
	for _, v := range variants {
		if got, want := nrgba(th.Color(fynetheme.ColorNameShadow, v.v)), nrgba(def.Color(fynetheme.ColorNameShadow, v.v)); got != want {
			t.Errorf("%s shadow = %v, want the default %v", v.name, got, want)
		}
	}
	if got, want := th.Size(fynetheme.SizeNamePadding), def.Size(fynetheme.SizeNamePadding); got != want {
		t.Errorf("padding = %v, want %v", got, want)
	}
	if got, want := th.Font(fyne.TextStyle{Bold: true}).Name(), def.Font(fyne.TextStyle{Bold: true}).Name(); got != want {
		t.Errorf("bold font = %q, want %q", got, want)
	}
	if th.Icon(fynetheme.IconNameConfirm) == nil {
		t.Error("confirm icon is nil")
	}
}
