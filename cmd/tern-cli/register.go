package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tern-im/tern/protocol/client"
)

// fieldFlags collects repeated --field name=value flags.
type fieldFlags map[string][]string

func (f fieldFlags) String() string { return "" }

func (f fieldFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return errors.New("want name=value")
	}
	f[name] = append(f[name], value)
	return nil
}

// cmdRegister creates an account by in-band registration (XEP-0077).
func (e *env) cmdRegister(ctx context.Context, args []string) error {
	fs := e.newFlags("register", true)
	jidFlag := fs.String("jid", "", "the address of the account to create (name@example.org)")
	server := fs.String("server", "", "connect to this host:port instead of looking the server up")
	fields := fieldFlags{}
	fs.Var(fields, "field", "a value for a field the server asks for, as name=value (repeatable)")
	save := fs.Bool("save", false, "also store the account and its password, as 'account add' does")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("register: unexpected argument %q", pos[0])}
	}
	addr, err := parseJID("register: --jid", *jidFlag)
	if err != nil {
		return err
	}
	if addr.Local() == "" {
		return usageError{"register: --jid needs a local part (name@domain)"}
	}
	if *save {
		// Open the store first: its passphrase comes first on stdin.
		if _, err := e.store(ctx); err != nil {
			return err
		}
		if _, err := e.findAccount(ctx, addr.Bare()); err == nil {
			return fmt.Errorf("register: %s is already stored", addr.Bare())
		} else if !errors.Is(err, client.ErrNotFound) {
			return err
		}
	}
	pw, err := e.readPassword(addr)
	if err != nil {
		return err
	}
	cfg, err := e.sessionConfig(addr, pw, *server)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, e.g.timeout)
	defer cancel()
	err = client.Register(rctx, cfg, func(f client.RegistrationForm) (map[string][]string, error) {
		return e.fillRegistration(f, fields)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "registered %s\n", addr.Bare())
	if !*save {
		return nil
	}
	return e.storeNewAccount(ctx, client.Account{JID: addr.Bare(), Server: *server, Enabled: true}, pw)
}

// fillRegistration answers what the server asks for: the --field values,
// then, on a terminal, a prompt per remaining field. The username and
// password come from --jid and the password (client.Register fills them).
func (e *env) fillRegistration(f client.RegistrationForm, given fieldFlags) (map[string][]string, error) {
	values := map[string][]string{}
	type ask struct {
		name, label string
		required    bool
		options     []string
	}
	var asks []ask
	if f.Form != nil {
		for _, fd := range f.Form.Fields {
			switch fd.EffectiveType() {
			case "hidden", "fixed":
				continue
			}
			if fd.Var == "" {
				continue
			}
			a := ask{name: fd.Var, label: fd.Label, required: fd.Required}
			for _, o := range fd.Options {
				a.options = append(a.options, o.Value)
			}
			asks = append(asks, a)
		}
	} else {
		for _, name := range f.Fields {
			// Legacy fields are all required (XEP-0077 §3.1).
			asks = append(asks, ask{name: name, required: true})
		}
	}
	for name, vs := range given {
		if !slices.ContainsFunc(asks, func(a ask) bool { return a.name == name }) {
			return nil, usageError{fmt.Sprintf("the server does not ask for a field %q", name)}
		}
		values[name] = vs
	}
	instructions := f.Instructions
	for _, a := range asks {
		if _, ok := values[a.name]; ok || a.name == "username" || a.name == "password" {
			continue
		}
		if !e.terminal() {
			if a.required {
				msg := fmt.Sprintf("the server asks for %q: give --field %s=VALUE", a.name, a.name)
				if f.URL != "" {
					msg += " (or register at " + clean(f.URL) + ")"
				}
				return nil, usageError{msg}
			}
			continue
		}
		if instructions != "" {
			fmt.Fprintf(e.stderr, "%s\n", clean(instructions))
			instructions = ""
		}
		label := a.name
		if a.label != "" {
			label = clean(a.label) + " (" + a.name + ")"
		}
		if len(a.options) > 0 {
			label += " [" + clean(strings.Join(a.options, "|")) + "]"
		}
		if !a.required {
			label += " (optional)"
		}
		fmt.Fprintf(e.stderr, "%s: ", label)
		line, err := e.readLine()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", a.name, err)
		}
		if line != "" || a.required {
			values[a.name] = []string{line}
		}
	}
	return values, nil
}
