package account_test

import (
	"context"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tern-im/tern/app/account"
)

func TestRegisterAsksForTheServersForm(t *testing.T) {
	test.NewTempApp(t)
	answers := make(chan map[string][]string, 1)
	type args struct{ address, password, server string }
	calls := make(chan args, 1)
	register := func(ctx context.Context, address, password, server string, fill account.FillFunc) error {
		calls <- args{address, password, server}
		v, err := fill(registrationForm())
		if err != nil {
			return err
		}
		answers <- v
		return nil
	}
	var done []string
	formShown := make(chan struct{}, 1)
	r, err := account.NewRegister(t.Context(), account.RegisterOptions{
		Register:     register,
		OnRegistered: func(a string) { done = append(done, a) },
		OnForm:       func() { formShown <- struct{}{} },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Wait)
	w := test.NewTempWindow(t, r.Content())
	w.Resize(fyne.NewSize(520, 800))

	var entries []*widget.Entry
	var create *widget.Button
	for _, o := range test.LaidOutObjects(r.Content()) {
		switch x := o.(type) {
		case *widget.Entry:
			entries = append(entries, x)
		case *widget.Button:
			if x.Text == account.CreateAccountLabel {
				create = x
			}
		}
	}
	if len(entries) != 4 || create == nil {
		t.Fatalf("%d entries and create button %v, want address, password, confirmation, server", len(entries), create != nil)
	}
	test.Type(entries[0], "juliet@capulet.example")
	test.Type(entries[1], "secret")
	test.Type(entries[2], "other")
	test.Tap(create)
	select {
	case <-calls:
		t.Fatal("registered with differing passwords")
	default:
	}
	entries[2].SetText("secret")
	test.Tap(create)
	if c := <-calls; c != (args{"juliet@capulet.example", "secret", ""}) {
		t.Errorf("Register(%+v)", c)
	}

	// The form arrives through fyne.Do; find its email entry and the
	// Continue button.
	<-formShown
	var cont *widget.Button
	var email *widget.Entry
	for _, o := range test.LaidOutObjects(r.Content()) {
		switch x := o.(type) {
		case *widget.Button:
			if x.Text == account.ContinueLabel && x.Visible() {
				cont = x
			}
		case *widget.Entry:
			if !x.Password && x.Text == "" && x.PlaceHolder == "" && x.Visible() && !x.MultiLine {
				email = x
			}
		}
	}
	if cont == nil || email == nil {
		t.Fatal("the server's form is not shown")
	}
	test.Type(email, "juliet@example.org")
	test.Tap(cont)
	v := <-answers
	if got := v["email"]; len(got) != 1 || got[0] != "juliet@example.org" {
		t.Errorf("email answered %q", got)
	}
	r.Wait()
	if len(done) != 1 || done[0] != "juliet@capulet.example" {
		t.Errorf("OnRegistered calls %q", done)
	}
}
