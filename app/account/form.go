package account

import (
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	fynetheme "fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tern-im/tern/protocol/client"
)

// Limits on what a server's form may make the screen show: the form comes
// from the peer (DESIGN.md §7).
const (
	// MaxFormFields is the most fields a form view shows.
	MaxFormFields = 50
	// MaxFormText bounds every label, description and instruction, in runes.
	MaxFormText = 500
)

// XEP-0004 §3.3 field types.
const (
	fieldBoolean     = "boolean"
	fieldFixed       = "fixed"
	fieldHidden      = "hidden"
	fieldJIDMulti    = "jid-multi"
	fieldListMulti   = "list-multi"
	fieldListSingle  = "list-single"
	fieldTextMulti   = "text-multi"
	fieldTextPrivate = "text-private"
)

// input is one field the user fills in.
type input struct {
	name     string
	label    string
	required bool
	get      func() []string
}

// FormView shows what a server asks for when creating an account — its
// data form (XEP-0004) or its legacy fields (XEP-0077 §3.1) — as ordinary
// widgets: text and JID fields as entries, private text as a password
// entry, booleans as check boxes, list-single as a drop-down, list-multi as
// check boxes, fixed fields as text; hidden fields are not shown (their
// values are submitted as they came). Build it and read it on the Fyne
// thread.
type FormView struct {
	inputs  []input
	content fyne.CanvasObject
}

// NewFormView builds the view of f. Fields named in skip (the username and
// password, which the screen asks for itself) are left out.
func NewFormView(f client.RegistrationForm, skip ...string) *FormView {
	v := &FormView{}
	box := container.NewVBox()
	if f.Form != nil && f.Form.Title != "" {
		t := widget.NewLabelWithStyle(limit(f.Form.Title), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		t.Wrapping = fyne.TextWrapWord
		box.Add(t)
	}
	var instructions []string
	if f.Instructions != "" {
		instructions = append(instructions, f.Instructions)
	}
	if f.Form != nil {
		instructions = append(instructions, f.Form.Instructions...)
	}
	for _, s := range instructions {
		l := widget.NewLabel(limit(s))
		l.Wrapping = fyne.TextWrapWord
		box.Add(l)
	}
	grid := container.New(layout.NewFormLayout())
	row := func(label string, required bool, o fyne.CanvasObject) {
		if required {
			label += " *"
		}
		grid.Add(widget.NewLabelWithStyle(label, fyne.TextAlignTrailing, fyne.TextStyle{Bold: true}))
		grid.Add(o)
	}
	shown := 0
	if f.Form != nil {
		for _, fd := range f.Form.Fields {
			if shown >= MaxFormFields {
				break
			}
			typ := fd.EffectiveType()
			if typ == fieldHidden || (fd.Var != "" && slices.Contains(skip, fd.Var)) {
				continue
			}
			shown++
			if typ == fieldFixed {
				l := widget.NewLabel(limit(strings.Join(fd.Values, "\n")))
				l.Wrapping = fyne.TextWrapWord
				grid.Add(layout.NewSpacer())
				grid.Add(l)
				continue
			}
			if fd.Var == "" {
				continue // only fixed fields may lack a var (XEP-0004 §3.2)
			}
			label := fd.Label
			if label == "" {
				label = fd.Var
			}
			label = limit(label)
			var opts []option
			for _, o := range fd.Options {
				opts = append(opts, option{label: o.Label, value: o.Value})
			}
			o, get := fieldWidget(typ, fd.Values, opts)
			if fd.Desc != "" {
				d := widget.NewLabel(limit(fd.Desc))
				d.SizeName = fynetheme.SizeNameCaptionText
				d.Wrapping = fyne.TextWrapWord
				o = container.NewVBox(o, d)
			}
			row(label, fd.Required, o)
			v.inputs = append(v.inputs, input{name: fd.Var, label: label, required: fd.Required, get: get})
		}
	} else {
		for _, name := range f.Fields {
			if shown >= MaxFormFields {
				break
			}
			if slices.Contains(skip, name) {
				continue
			}
			shown++
			e := widget.NewEntry()
			// Legacy fields are all required (XEP-0077 §3.1).
			label := limit(legacyLabel(name))
			row(label, true, e)
			v.inputs = append(v.inputs, input{name: name, label: label, required: true, get: func() []string { return []string{e.Text} }})
		}
	}
	if len(grid.Objects) > 0 {
		box.Add(grid)
	}
	if f.URL != "" {
		l := widget.NewLabel("The server also offers registration at " + limit(f.URL))
		l.Wrapping = fyne.TextWrapWord
		box.Add(l)
	}
	v.content = box
	return v
}

// option is one choice of a list field.
type option struct{ label, value string }

// fieldWidget returns the widget for a data form field of type typ with
// its default values and options, and a function that reads its values.
func fieldWidget(typ string, defaults []string, opts []option) (fyne.CanvasObject, func() []string) {
	first := ""
	if len(defaults) > 0 {
		first = defaults[0]
	}
	switch typ {
	case fieldBoolean:
		c := widget.NewCheck("", nil)
		c.SetChecked(first == "1" || first == "true")
		return c, func() []string {
			if c.Checked {
				return []string{"1"}
			}
			return []string{"0"}
		}
	case fieldTextPrivate:
		e := widget.NewPasswordEntry()
		e.SetText(first)
		return e, func() []string { return []string{e.Text} }
	case fieldTextMulti, fieldJIDMulti:
		e := widget.NewMultiLineEntry()
		e.SetText(strings.Join(defaults, "\n"))
		e.SetMinRowsVisible(3)
		return e, func() []string { return []string{e.Text} }
	case fieldListSingle:
		labels, values := options(opts)
		s := widget.NewSelect(labels, nil)
		if i := slices.Index(values, first); i >= 0 {
			s.SetSelectedIndex(i)
		}
		return s, func() []string {
			if i := s.SelectedIndex(); i >= 0 {
				return []string{values[i]}
			}
			return nil
		}
	case fieldListMulti:
		labels, values := options(opts)
		g := widget.NewCheckGroup(labels, nil)
		var sel []string
		for i, v := range values {
			if slices.Contains(defaults, v) {
				sel = append(sel, labels[i])
			}
		}
		g.SetSelected(sel)
		return g, func() []string {
			var out []string
			for i, l := range labels {
				if slices.Contains(g.Selected, l) {
					out = append(out, values[i])
				}
			}
			return out
		}
	}
	e := widget.NewEntry()
	e.SetText(first)
	return e, func() []string { return []string{e.Text} }
}

// options returns the labels to show and the values of a list field's
// options, at most MaxFormFields of them; labels are made unique so that
// a choice maps back to one value.
func options(opts []option) (labels, values []string) {
	for i, o := range opts {
		if i >= MaxFormFields {
			break
		}
		l := o.label
		if l == "" {
			l = o.value
		}
		l = limit(l)
		for slices.Contains(labels, l) {
			l += " "
		}
		labels = append(labels, l)
		values = append(values, o.value)
	}
	return labels, values
}

// legacyLabel names an XEP-0077 legacy field for the user.
func legacyLabel(name string) string {
	switch name {
	case "email":
		return "Email"
	case "name":
		return "Name"
	case "nick":
		return "Nickname"
	case "first":
		return "First name"
	case "last":
		return "Last name"
	case "phone":
		return "Phone"
	}
	return name
}

// limit cuts a text from the server to MaxFormText runes.
func limit(s string) string {
	if r := []rune(s); len(r) > MaxFormText {
		return string(r[:MaxFormText-1]) + "…"
	}
	return s
}

// Content returns the view's root object.
func (v *FormView) Content() fyne.CanvasObject { return v.content }

// Empty reports whether the view asks nothing of the user.
func (v *FormView) Empty() bool { return len(v.inputs) == 0 }

// Values returns the user's answers by field name, or an error naming a
// required field left empty.
func (v *FormView) Values() (map[string][]string, error) {
	out := make(map[string][]string, len(v.inputs))
	for _, in := range v.inputs {
		vals := in.get()
		empty := !slices.ContainsFunc(vals, func(s string) bool { return strings.TrimSpace(s) != "" })
		if in.required && empty {
			return nil, fmt.Errorf("%w: %s", ErrRequired, in.label)
		}
		if vals != nil {
			out[in.name] = vals
		}
	}
	return out, nil
}
