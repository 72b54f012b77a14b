package account

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	fynetheme "fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tern-im/tern/app/widgets"
	"github.com/tern-im/tern/protocol/client"
)

// Texts of the registration screen.
const (
	// CreateAccountLabel is the text of the button that creates the account.
	CreateAccountLabel = "Create account"
	// ContinueLabel is the text of the button that submits the server's form.
	ContinueLabel = "Continue"
	// ConfirmLabel labels the password confirmation field.
	ConfirmLabel = "Confirm"
)

// ErrRequired: a required field of the server's form is empty.
var ErrRequired = errors.New("please fill in")

// FillFunc answers a server's registration form: the values to submit by
// field name (see client.Register).
type FillFunc func(client.RegistrationForm) (map[string][]string, error)

// RegisterFunc creates the account address with password by in-band
// registration (XEP-0077), calling fill with what the server asks for, and
// then signs in to it as ConnectFunc does. It runs off the UI thread and
// returns an error whose text the user will read.
type RegisterFunc func(ctx context.Context, address, password, server string, fill FillFunc) error

// RegisterOptions configures a registration screen.
type RegisterOptions struct {
	// Register creates the account. Required.
	Register RegisterFunc
	// OnRegistered is called on the Fyne thread once the account exists
	// and is signed in.
	OnRegistered func(address string)
	// OnBack, when set, adds a button that leaves the screen.
	OnBack func()
	// OnForm, when set, is called on the Fyne thread once the server's
	// form is shown (to bring the window forward).
	OnForm func()
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// answer is the user's reply to a server form.
type answer struct {
	values map[string][]string
	err    error
}

// Register is the account creation screen: address, password (twice), an
// optional server, then whatever else the server's form asks for.
type Register struct {
	ctx      context.Context
	register RegisterFunc
	done     func(string)
	onForm   func()
	log      *slog.Logger
	wg       sync.WaitGroup
	closed   atomic.Bool

	// Fyne thread only.
	address, password, confirm, server *widget.Entry
	create, cont                       *widget.Button
	activity                           // progress, cancel, status
	formBox                            *fyne.Container
	form                               *FormView
	reply                              chan<- answer // pending form answer, nil when none
	stopAttempt                        context.CancelFunc
	attempt                            int
	content                            fyne.CanvasObject
}

// NewRegister builds the registration screen. Attempts run under ctx;
// cancel it and call Wait before dropping the screen. Fyne thread only.
func NewRegister(ctx context.Context, opts RegisterOptions) (*Register, error) {
	if opts.Register == nil {
		return nil, ErrNoConnect
	}
	r := &Register{ctx: ctx, register: opts.Register, done: opts.OnRegistered, onForm: opts.OnForm, log: logger(opts.Logger)}
	r.address = widget.NewEntry()
	r.address.SetPlaceHolder(AddressPlaceholder)
	r.password = widget.NewPasswordEntry()
	r.confirm = widget.NewPasswordEntry()
	r.server = widget.NewEntry()
	r.server.SetPlaceHolder(ServerPlaceholder)
	for _, e := range []*widget.Entry{r.address, r.password, r.confirm, r.server} {
		e.OnSubmitted = func(string) { r.submit() }
	}
	r.create = widget.NewButtonWithIcon(CreateAccountLabel, fynetheme.ContentAddIcon(), r.submit)
	r.create.Importance = widget.HighImportance
	r.cont = widget.NewButtonWithIcon(ContinueLabel, fynetheme.ConfirmIcon(), r.sendForm)
	r.cont.Importance = widget.HighImportance
	r.cancel = widget.NewButton(CancelLabel, func() {
		if r.stopAttempt != nil {
			r.stopAttempt()
		}
	})
	r.cancel.Importance = widget.LowImportance
	r.cancel.Hide()
	r.progress = widgets.NewProgress()
	r.status = widget.NewLabel("")
	r.status.Wrapping = fyne.TextWrapWord
	r.status.Alignment = fyne.TextAlignCenter
	r.status.Hide()
	r.formBox = container.NewVBox()
	r.formBox.Hide()

	title := widget.NewLabelWithStyle("Create an account", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	title.SizeName = fynetheme.SizeNameSubHeadingText
	intro := widget.NewLabelWithStyle("Choose an address on a server that lets you sign up.", fyne.TextAlignCenter, fyne.TextStyle{})
	intro.Wrapping = fyne.TextWrapWord
	label := func(text string) *widget.Label {
		return widget.NewLabelWithStyle(text, fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
	}
	form := container.New(layout.NewFormLayout(),
		label("Address"), r.address,
		label("Password"), r.password,
		label(ConfirmLabel), r.confirm,
		label("Server"), r.server,
	)
	column := container.NewVBox(title, intro, form, r.create, r.formBox, r.progress, r.status, r.cancel)
	if opts.OnBack != nil {
		back := widget.NewButtonWithIcon(BackLabel, fynetheme.NavigateBackIcon(), opts.OnBack)
		back.Importance = widget.LowImportance
		column.Add(back)
	}
	r.content = container.NewVScroll(container.New(&columnLayout{width: 420}, column))
	return r, nil
}

// Content returns the screen's root object.
func (r *Register) Content() fyne.CanvasObject { return r.content }

// Close marks the screen as gone: late results no longer touch it.
func (r *Register) Close() { r.closed.Store(true) }

// Wait blocks until every attempt has finished (cancel the context first).
func (r *Register) Wait() { r.wg.Wait() }

// submit validates the form and starts the registration. Fyne thread only.
func (r *Register) submit() {
	if r.stopAttempt != nil {
		return
	}
	address := strings.TrimSpace(r.address.Text)
	password := r.password.Text
	server := strings.TrimSpace(r.server.Text)
	if msg := validate(address, password, server); msg != "" {
		r.show(msg, widget.DangerImportance)
		return
	}
	if password != r.confirm.Text {
		r.show("The two passwords differ.", widget.DangerImportance)
		return
	}
	ctx, stop := context.WithCancel(r.ctx)
	r.attempt++
	attempt := r.attempt
	r.stopAttempt = stop
	r.setBusy(true)
	r.show("Asking "+domainOf(address)+" to create "+address+"…", widget.MediumImportance)

	fill := func(f client.RegistrationForm) (map[string][]string, error) {
		reply := make(chan answer, 1)
		fyne.Do(func() {
			if r.closed.Load() || attempt != r.attempt {
				reply <- answer{err: context.Canceled}
				return
			}
			r.showForm(f, reply)
		})
		select {
		case a := <-reply:
			return a.values, a.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer stop()
		err := r.register(ctx, address, password, server, fill)
		if r.closed.Load() {
			return
		}
		fyne.Do(func() {
			if !r.closed.Load() {
				r.finish(attempt, address, err)
			}
		})
	}()
}

// showForm shows the server's form, or answers at once when it asks for
// nothing more. Fyne thread only.
func (r *Register) showForm(f client.RegistrationForm, reply chan<- answer) {
	v := NewFormView(f, "username", "password")
	if v.Empty() {
		reply <- answer{values: map[string][]string{}}
		return
	}
	r.form, r.reply = v, reply
	r.formBox.Objects = []fyne.CanvasObject{widget.NewSeparator(), v.Content(), r.cont}
	r.formBox.Show()
	r.formBox.Refresh()
	r.progress.Hide()
	r.show("The server asks for more before it creates the account.", widget.MediumImportance)
	if r.onForm != nil {
		r.onForm()
	}
}

// sendForm submits the user's answers to the server's form. Fyne thread
// only.
func (r *Register) sendForm() {
	if r.form == nil || r.reply == nil {
		return
	}
	values, err := r.form.Values()
	if err != nil {
		r.show(err.Error()+".", widget.DangerImportance)
		return
	}
	r.reply <- answer{values: values}
	r.reply = nil
	r.formBox.Hide()
	r.progress.Show()
	r.show("Creating the account…", widget.MediumImportance)
}

// finish shows the outcome of an attempt. Fyne thread only.
func (r *Register) finish(attempt int, address string, err error) {
	if attempt != r.attempt {
		return
	}
	r.stopAttempt = nil
	r.reply = nil
	r.formBox.Hide()
	r.setBusy(false)
	switch {
	case err == nil:
		r.log.Info("account created", "jid", address)
		r.password.SetText("")
		r.confirm.SetText("")
		r.show("Created "+address+".", widget.SuccessImportance)
		if r.done != nil {
			r.done(address)
		}
	case errors.Is(err, context.Canceled):
		r.show("Cancelled.", widget.MediumImportance)
	default:
		r.log.Info("registration failed", "err", err)
		r.show("Could not create the account: "+err.Error(), widget.DangerImportance)
	}
}

// setBusy switches between editing and waiting. Fyne thread only.
func (r *Register) setBusy(busy bool) {
	r.activity.setBusy(busy, r.address, r.password, r.confirm, r.server, r.create)
}

// domainOf returns the part of an address after the @.
func domainOf(address string) string {
	_, d, _ := strings.Cut(address, "@")
	return d
}
