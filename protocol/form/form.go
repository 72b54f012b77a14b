// Package form implements XEP-0004 Data Forms (version 2.13.2): the
// jabber:x:data forms that servers and services send to be filled in, that
// clients submit, and that carry results and extended service discovery
// information (XEP-0128).
//
// [Parse] reads a form as it is, without dropping fields of unknown type, so
// that a form can be shown, submitted ([Form.Submit]) or hashed (XEP-0115)
// faithfully; [Form.Element] writes it back. The typed getters read field
// values with the lexical rules of the XEP.
package form

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
)

// NS is the XEP-0004 namespace.
const NS = "jabber:x:data"

// Form types: the 'type' attribute of <x/> (XEP-0004 §3.1).
const (
	TypeForm   = "form"
	TypeSubmit = "submit"
	TypeCancel = "cancel"
	TypeResult = "result"
)

// Field types: the 'type' attribute of <field/> (XEP-0004 §3.3).
const (
	FieldBoolean     = "boolean"
	FieldFixed       = "fixed"
	FieldHidden      = "hidden"
	FieldJIDMulti    = "jid-multi"
	FieldJIDSingle   = "jid-single"
	FieldListMulti   = "list-multi"
	FieldListSingle  = "list-single"
	FieldTextMulti   = "text-multi"
	FieldTextPrivate = "text-private"
	FieldTextSingle  = "text-single"
)

// FormTypeVar is the var of the hidden field that names the form's
// namespace (XEP-0068).
const FormTypeVar = "FORM_TYPE"

// Limits on what Parse accepts from a peer.
const (
	// MaxFields is the largest number of <field/> elements in one form,
	// counting those in <reported/> and in every <item/>.
	MaxFields = 2048
	// MaxItems is the largest number of <item/> elements in a result.
	MaxItems = 1024
	// MaxValues is the largest number of <value/> elements in one field.
	MaxValues = 1024
	// MaxOptions is the largest number of <option/> elements in one field.
	MaxOptions = 1024
	// MaxInstructions is the largest number of <instructions/> elements.
	MaxInstructions = 64
)

var (
	// ErrMalformed: the element is not a data form, or its type is
	// missing or unknown.
	ErrMalformed = errors.New("form: malformed data form")
	// ErrTooLarge: the form exceeds one of the Max… limits.
	ErrTooLarge = errors.New("form: data form too large")
	// ErrNoField: the form has no field with the requested var.
	ErrNoField = errors.New("form: no such field")
	// ErrRequired: a field marked <required/> has no value in a
	// submission.
	ErrRequired = errors.New("form: a required field has no value")
	// ErrInvalidValue: a value does not fit its field's type (not a
	// boolean, not a JID, not one of the options, several values in a
	// single-valued field, or a change to FORM_TYPE).
	ErrInvalidValue = errors.New("form: invalid field value")
)

// Option is one choice of a list-single or list-multi field.
type Option struct {
	Label, Value string
}

// Field is one <field/>.
type Field struct {
	// Var identifies the field in the form; only fixed fields may lack it.
	Var string
	// Type is the 'type' attribute as received ("" when absent). See
	// [Field.EffectiveType] for the type to act on.
	Type string
	// Label is a human-readable name; Desc a longer description.
	Label, Desc string
	// Required is set when the form must not be submitted without a value.
	Required bool
	// Values are the field's values: the defaults in a form, the data in a
	// submission or result. Nil when there are none.
	Values []string
	// Options are the choices of a list field.
	Options []Option
}

// Form is one jabber:x:data form.
type Form struct {
	// Type is the form type: TypeForm, TypeSubmit, TypeCancel or TypeResult.
	Type string
	// Title labels the form as a whole.
	Title string
	// Instructions are natural-language instructions, one per element.
	Instructions []string
	// Fields are the form's fields, in order: the order to present them in.
	Fields []Field
	// Reported is the table header of a multi-item result (§3.4).
	Reported []Field
	// Items are the rows of a multi-item result, each a list of fields.
	Items [][]Field
}

// FormTypeField returns the hidden FORM_TYPE field naming ns, which forms
// that a protocol defines carry as their first field.
func FormTypeField(ns string) Field {
	return Field{Var: FormTypeVar, Type: FieldHidden, Values: []string{ns}}
}

// EffectiveType returns the type to treat the field as: its Type when that
// is a known field type, otherwise text-single, which XEP-0004 §3.3 says is
// the default and MUST be assumed for a type the receiver does not
// understand.
func (fd Field) EffectiveType() string {
	switch fd.Type {
	case FieldBoolean, FieldFixed, FieldHidden, FieldJIDMulti, FieldJIDSingle,
		FieldListMulti, FieldListSingle, FieldTextMulti, FieldTextPrivate:
		return fd.Type
	}
	return FieldTextSingle
}

// Parse reads a jabber:x:data <x/> element. Unknown child elements are
// ignored; fields are kept as received (including unknown types and fields
// without var) so that a form can be hashed or echoed faithfully.
func Parse(el *xmlstream.Element) (Form, error) {
	if !el.Is(NS, "x") {
		return Form{}, ErrMalformed
	}
	f := Form{Type: el.Get("type")}
	switch f.Type {
	case TypeForm, TypeSubmit, TypeCancel, TypeResult:
	default:
		return Form{}, fmt.Errorf("%w: form type %q", ErrMalformed, clip(f.Type))
	}
	budget := MaxFields
	titled, reported := false, false
	for _, c := range el.Children {
		if c.Name.Space != NS {
			continue
		}
		var err error
		switch c.Name.Local {
		case "title":
			if !titled {
				f.Title, titled = c.Text, true
			}
		case "instructions":
			if len(f.Instructions) == MaxInstructions {
				return Form{}, fmt.Errorf("%w: more than %d instructions", ErrTooLarge, MaxInstructions)
			}
			f.Instructions = append(f.Instructions, c.Text)
		case "field":
			var fd Field
			if fd, err = parseField(c, &budget); err == nil {
				f.Fields = append(f.Fields, fd)
			}
		case "reported":
			if !reported {
				reported = true
				f.Reported, err = parseFields(c, &budget)
			}
		case "item":
			if len(f.Items) == MaxItems {
				return Form{}, fmt.Errorf("%w: more than %d items", ErrTooLarge, MaxItems)
			}
			var row []Field
			if row, err = parseFields(c, &budget); err == nil {
				f.Items = append(f.Items, row)
			}
		}
		if err != nil {
			return Form{}, err
		}
	}
	return f, nil
}

// parseFields reads the <field/> children of <reported/> or <item/>.
func parseFields(el *xmlstream.Element, budget *int) ([]Field, error) {
	var fields []Field
	for _, c := range el.Children {
		if !c.Is(NS, "field") {
			continue
		}
		fd, err := parseField(c, budget)
		if err != nil {
			return nil, err
		}
		fields = append(fields, fd)
	}
	return fields, nil
}

func parseField(el *xmlstream.Element, budget *int) (Field, error) {
	if *budget == 0 {
		return Field{}, fmt.Errorf("%w: more than %d fields", ErrTooLarge, MaxFields)
	}
	*budget--
	fd := Field{Var: el.Get("var"), Type: el.Get("type"), Label: el.Get("label")}
	described := false
	for _, c := range el.Children {
		if c.Name.Space != NS {
			continue
		}
		switch c.Name.Local {
		case "desc":
			if !described {
				fd.Desc, described = c.Text, true
			}
		case "required":
			fd.Required = true
		case "value":
			if len(fd.Values) == MaxValues {
				return Field{}, fmt.Errorf("%w: field %q has more than %d values", ErrTooLarge, clip(fd.Var), MaxValues)
			}
			fd.Values = append(fd.Values, c.Text)
		case "option":
			if len(fd.Options) == MaxOptions {
				return Field{}, fmt.Errorf("%w: field %q has more than %d options", ErrTooLarge, clip(fd.Var), MaxOptions)
			}
			// §3.2: an option has exactly one <value/>; a missing one
			// reads as the empty value.
			fd.Options = append(fd.Options, Option{Label: c.Get("label"), Value: c.ChildText(NS, "value")})
		}
	}
	return fd, nil
}

// Element returns the <x xmlns='jabber:x:data'/> element for f. Empty
// attributes and texts are omitted.
func (f Form) Element() *xmlstream.Element {
	x := xmlstream.New(NS, "x", "type", f.Type)
	if f.Title != "" {
		x.Append(xmlstream.New(NS, "title").SetText(f.Title))
	}
	for _, in := range f.Instructions {
		x.Append(xmlstream.New(NS, "instructions").SetText(in))
	}
	for _, fd := range f.Fields {
		x.Append(fd.element())
	}
	if len(f.Reported) > 0 {
		// §3.4: <reported/> comes before any <item/>.
		r := xmlstream.New(NS, "reported")
		for _, fd := range f.Reported {
			r.Append(fd.element())
		}
		x.Append(r)
	}
	for _, row := range f.Items {
		it := xmlstream.New(NS, "item")
		for _, fd := range row {
			it.Append(fd.element())
		}
		x.Append(it)
	}
	return x
}

func (fd Field) element() *xmlstream.Element {
	el := xmlstream.New(NS, "field")
	el.Set("var", fd.Var)
	el.Set("type", fd.Type)
	el.Set("label", fd.Label)
	if fd.Desc != "" {
		el.Append(xmlstream.New(NS, "desc").SetText(fd.Desc))
	}
	if fd.Required {
		el.Append(xmlstream.New(NS, "required"))
	}
	for _, v := range fd.Values {
		el.Append(xmlstream.New(NS, "value").SetText(v))
	}
	for _, o := range fd.Options {
		opt := xmlstream.New(NS, "option")
		opt.Set("label", o.Label)
		el.Append(opt.Append(xmlstream.New(NS, "value").SetText(o.Value)))
	}
	return el
}

// Field returns the first top-level field named name, or nil. The pointer
// refers into f.Fields.
func (f *Form) Field(name string) *Field {
	for i := range f.Fields {
		if f.Fields[i].Var == name {
			return &f.Fields[i]
		}
	}
	return nil
}

// FormType returns the value of the form's FORM_TYPE field (XEP-0068), or
// "" when it has none. The field must be hidden, or untyped as in many
// submissions.
func (f *Form) FormType() string {
	fd := f.Field(FormTypeVar)
	if fd == nil || (fd.Type != FieldHidden && fd.Type != "") || len(fd.Values) == 0 {
		return ""
	}
	return fd.Values[0]
}

// Value returns the first value of the field named name ("" when the field
// is absent or has no value).
func (f *Form) Value(name string) string {
	if fd := f.Field(name); fd != nil && len(fd.Values) > 0 {
		return fd.Values[0]
	}
	return ""
}

// Values returns the values of the field named name (nil when absent).
func (f *Form) Values(name string) []string {
	if fd := f.Field(name); fd != nil {
		return fd.Values
	}
	return nil
}

// Text returns the values of a text-multi field joined into one text, one
// line per value (§3.3: multiple values are merged with newlines).
func (f *Form) Text(name string) string {
	return strings.Join(f.Values(name), "\n")
}

// Bool returns the value of a boolean field. XEP-0004 §3.3 allows "1" and
// "true" for true and "0" and "false" for false, and makes a field without
// a value false. It fails with ErrNoField when the field is absent and
// ErrInvalidValue when the value is anything else.
func (f *Form) Bool(name string) (bool, error) {
	fd := f.Field(name)
	if fd == nil {
		return false, fmt.Errorf("%w: %q", ErrNoField, clip(name))
	}
	if len(fd.Values) == 0 {
		return false, nil
	}
	b, ok := parseBool(fd.Values[0])
	if !ok || len(fd.Values) > 1 {
		return false, fmt.Errorf("%w: field %q is not a boolean", ErrInvalidValue, clip(name))
	}
	return b, nil
}

// JID returns the value of a jid-single field, which must be a valid JID
// (§3.3). A field without a value yields the zero JID.
func (f *Form) JID(name string) (jid.JID, error) {
	fd := f.Field(name)
	if fd == nil {
		return jid.JID{}, fmt.Errorf("%w: %q", ErrNoField, clip(name))
	}
	if len(fd.Values) == 0 {
		return jid.JID{}, nil
	}
	if len(fd.Values) > 1 {
		return jid.JID{}, fmt.Errorf("%w: field %q has several values", ErrInvalidValue, clip(name))
	}
	j, err := jid.Parse(fd.Values[0])
	if err != nil {
		return jid.JID{}, fmt.Errorf("%w: field %q: %w", ErrInvalidValue, clip(name), err)
	}
	return j, nil
}

// JIDs returns the values of a jid-multi field, each a valid JID, without
// duplicates (§3.3: duplicate JIDs MUST be ignored).
func (f *Form) JIDs(name string) ([]jid.JID, error) {
	fd := f.Field(name)
	if fd == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoField, clip(name))
	}
	js, err := parseJIDs(fd.Values)
	if err != nil {
		return nil, fmt.Errorf("%w: field %q: %w", ErrInvalidValue, clip(name), err)
	}
	return js, nil
}

func parseJIDs(values []string) ([]jid.JID, error) {
	var js []jid.JID
	for _, v := range values {
		j, err := jid.Parse(v)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(js, j) {
			js = append(js, j)
		}
	}
	return js, nil
}

func parseBool(s string) (value, ok bool) {
	switch s {
	case "1", "true":
		return true, true
	case "0", "false":
		return false, true
	}
	return false, false
}

// Submit fills in f (a form of type "form") with values, keyed by field
// var, and returns the type="submit" form to send back. The rules of
// XEP-0004 are applied per field type:
//
//   - Fixed fields and fields without var are not submitted.
//   - The hidden FORM_TYPE field is returned unchanged; asking to change it
//     is ErrInvalidValue. Other hidden fields keep their value unless
//     values sets them (§3.3: only when the using protocol defines it).
//   - A field absent from values keeps the form's default values; a field
//     with no value at all is omitted (§3.1: optional fields may be
//     omitted), unless it is required, which is ErrRequired. A field that
//     values sets to nil or to no values is sent empty, which is how a
//     value is unset (§3.6).
//   - boolean: one value, "1", "true", "0" or "false".
//   - jid-single: one value, validated and normalised with jid.Parse;
//     jid-multi: every value validated, duplicates dropped.
//   - list-single: one value, which must be one of the options;
//     list-multi: every value must be an option, and they are sent in the
//     order of the options (§3.3: the order MUST NOT change).
//   - text-multi: values containing line breaks are split into one value
//     per line (§3.3); text-single, text-private and unknown types: one
//     value.
//
// Keys of values that name no field of f are submitted too, after the
// form's fields and sorted, untyped (§3.1 allows extra fields).
func (f *Form) Submit(values map[string][]string) (Form, error) {
	out := Form{Type: TypeSubmit}
	seen := make(map[string]bool)
	for _, fd := range f.Fields {
		if fd.Var == "" || seen[fd.Var] || fd.EffectiveType() == FieldFixed {
			continue
		}
		seen[fd.Var] = true
		given, set := values[fd.Var]
		vals, err := submitValues(fd, given, set)
		if err != nil {
			return Form{}, fmt.Errorf("form: field %q: %w", clip(fd.Var), err)
		}
		if len(vals) == 0 && !set {
			continue
		}
		out.Fields = append(out.Fields, Field{Var: fd.Var, Type: fd.Type, Values: vals})
	}
	var extra []string
	for k := range values {
		if !seen[k] {
			if k == "" {
				return Form{}, fmt.Errorf("form: %w: a field without var", ErrInvalidValue)
			}
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		out.Fields = append(out.Fields, Field{Var: k, Values: slices.Clone(values[k])})
	}
	return out, nil
}

// submitValues returns the values to submit for fd, given what the caller
// set (given, when set is true).
func submitValues(fd Field, given []string, set bool) ([]string, error) {
	typ := fd.EffectiveType()
	if typ == FieldHidden && fd.Var == FormTypeVar {
		if set && !slices.Equal(given, fd.Values) {
			return nil, fmt.Errorf("%w: FORM_TYPE cannot be changed", ErrInvalidValue)
		}
		given, set = nil, false
	}
	vals := slices.Clone(fd.Values)
	if set {
		vals = slices.Clone(given)
	}
	switch typ {
	case FieldJIDMulti:
		vals = slices.DeleteFunc(vals, func(v string) bool { return v == "" })
		js, err := parseJIDs(vals)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidValue, err)
		}
		vals = vals[:0]
		for _, j := range js {
			vals = append(vals, j.String())
		}
	case FieldListMulti:
		if len(fd.Options) > 0 {
			var ordered []string
			for _, o := range fd.Options {
				if slices.Contains(vals, o.Value) && !slices.Contains(ordered, o.Value) {
					ordered = append(ordered, o.Value)
				}
			}
			for _, v := range vals {
				if !slices.Contains(ordered, v) {
					return nil, fmt.Errorf("%w: %q is not one of the options", ErrInvalidValue, clip(v))
				}
			}
			vals = ordered
		}
	case FieldTextMulti:
		var lines []string
		for _, v := range vals {
			v = strings.ReplaceAll(v, "\r\n", "\n")
			lines = append(lines, strings.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == '\r' })...)
		}
		vals = lines
	default:
		if len(vals) > 1 {
			return nil, fmt.Errorf("%w: %d values for a single-valued field", ErrInvalidValue, len(vals))
		}
		if len(vals) == 1 {
			v, err := checkSingle(fd, typ, vals[0])
			if err != nil {
				return nil, err
			}
			vals[0] = v
		}
	}
	if fd.Required && !hasValue(vals) {
		return nil, ErrRequired
	}
	if len(vals) == 0 {
		return nil, nil
	}
	return vals, nil
}

// checkSingle validates (and normalises) the value v of a single-valued
// field of type typ.
func checkSingle(fd Field, typ, v string) (string, error) {
	switch typ {
	case FieldBoolean:
		if _, ok := parseBool(v); !ok {
			return "", fmt.Errorf("%w: %q is not a boolean", ErrInvalidValue, clip(v))
		}
	case FieldJIDSingle:
		if v == "" {
			return v, nil
		}
		j, err := jid.Parse(v)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrInvalidValue, err)
		}
		return j.String(), nil
	case FieldListSingle:
		if len(fd.Options) > 0 && !slices.ContainsFunc(fd.Options, func(o Option) bool { return o.Value == v }) {
			return "", fmt.Errorf("%w: %q is not one of the options", ErrInvalidValue, clip(v))
		}
	}
	return v, nil
}

func hasValue(vals []string) bool {
	return slices.ContainsFunc(vals, func(v string) bool { return v != "" })
}

// clip bounds peer-controlled text quoted in errors.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	for i := max; i > 0; i-- {
		if s[i]&0xC0 != 0x80 {
			return s[:i] + "…"
		}
	}
	return s[:max] + "…"
}
