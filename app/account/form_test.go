package account_test

import (
	"errors"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tern-im/tern/app/account"
	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/form"
)

// registrationForm is a server's form with one field of each kind.
func registrationForm() client.RegistrationForm {
	return client.RegistrationForm{
		Instructions: "Choose a username and password.",
		Form: &client.DataForm{
			Type:  "form",
			Title: "Sign up",
			Fields: []form.Field{
				{Var: "FORM_TYPE", Type: "hidden", Values: []string{"jabber:iq:register"}},
				{Var: "username", Type: "text-single", Label: "Username", Required: true},
				{Var: "password", Type: "text-private", Label: "Password", Required: true},
				{Type: "fixed", Values: []string{"Tell us about you"}},
				{Var: "email", Type: "text-single", Label: "Email", Required: true},
				{Var: "pin", Type: "text-private", Label: "PIN"},
				{Var: "tos", Type: "boolean", Label: "I accept the terms", Values: []string{"0"}},
				{Var: "plan", Type: "list-single", Label: "Plan", Values: []string{"free"},
					Options: []form.Option{{Label: "Free", Value: "free"}, {Label: "Pro", Value: "pro"}}},
			},
		},
	}
}

func TestFormViewRendersEveryFieldKind(t *testing.T) {
	test.NewTempApp(t)
	v := account.NewFormView(registrationForm(), "username", "password")
	if v.Empty() {
		t.Fatal("the form view asks nothing")
	}
	w := test.NewTempWindow(t, v.Content())
	w.Resize(fyne.NewSize(460, 420))

	if _, err := v.Values(); !errors.Is(err, account.ErrRequired) {
		t.Fatalf("Values with the required email empty: %v, want ErrRequired", err)
	}
	var entries []*widget.Entry
	var check *widget.Check
	var sel *widget.Select
	for _, o := range test.LaidOutObjects(v.Content()) {
		switch x := o.(type) {
		case *widget.Entry:
			entries = append(entries, x)
		case *widget.Check:
			check = x
		case *widget.Select:
			sel = x
		}
	}
	if len(entries) != 2 || check == nil || sel == nil {
		t.Fatalf("%d entries, check %v, select %v: want email and PIN entries, a check box and a drop-down", len(entries), check != nil, sel != nil)
	}
	if entries[0].Password || !entries[1].Password {
		t.Error("the PIN (text-private) is not a password entry, or the email is")
	}
	if sel.Selected != "Free" {
		t.Errorf("the drop-down shows %q, want the default Free", sel.Selected)
	}
	test.Type(entries[0], "juliet@example.org")
	test.Tap(check)
	sel.SetSelected("Pro")
	got, err := v.Values()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"email": "juliet@example.org", "tos": "1", "plan": "pro", "pin": ""}
	for k, wv := range want {
		if len(got[k]) != 1 || got[k][0] != wv {
			t.Errorf("%s = %q, want [%q]", k, got[k], wv)
		}
	}
	for _, k := range []string{"username", "password", "FORM_TYPE"} {
		if _, ok := got[k]; ok {
			t.Errorf("the view answers %s, which it should leave out", k)
		}
	}
	test.AssertRendersToMarkup(t, "form.xml", w.Canvas())
}

func TestFormViewLegacyFields(t *testing.T) {
	test.NewTempApp(t)
	v := account.NewFormView(client.RegistrationForm{Fields: []string{"username", "password"}}, "username", "password")
	if !v.Empty() {
		t.Error("a legacy form with only username and password asks the user for more")
	}
	v = account.NewFormView(client.RegistrationForm{Fields: []string{"username", "password", "email"}}, "username", "password")
	if v.Empty() {
		t.Fatal("the email field is not asked")
	}
	if _, err := v.Values(); !errors.Is(err, account.ErrRequired) {
		t.Errorf("empty legacy field: %v, want ErrRequired (all legacy fields are required)", err)
	}
}
