package client

import (
	"context"
	"errors"
	"fmt"

	"github.com/tern-im/tern/protocol/form"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/register"
	"github.com/tern-im/tern/protocol/session"
	"github.com/tern-im/tern/protocol/stanza"
	"github.com/tern-im/tern/protocol/stream"
)

// In-band registration (XEP-0077): creating an account before signing in
// (on a protected stream, session.PreAuth), and changing the password or
// deleting the account on an authenticated one.

// ErrRegistrationForm: the server's registration answer has neither a data
// form nor fields to fill in (perhaps only a web page: see
// RegistrationForm.URL).
var ErrRegistrationForm = errors.New("client: the server asks for nothing Tern can fill in")

// DataForm is an XEP-0004 data form.
type DataForm = form.Form

// RegistrationForm is what a server asks for to create an account.
type RegistrationForm struct {
	// Instructions are the server's instructions, if any.
	Instructions string
	// Form is the data form to fill in (XEP-0077 §6), nil when the server
	// sent none; it takes precedence over Fields.
	Form *DataForm
	// Fields are the names of the legacy fields the server asks for
	// ("username", "password", "email", …), when there is no form.
	Fields []string
	// URL is a web page where the account can be created instead (§5).
	URL string
}

// Register creates the account cfg.JID with the password cfg.Password by
// in-band registration (XEP-0077 §3.1). It connects as a session would,
// TLS always, but does not authenticate. fill receives what the server
// asks for and returns the values to submit, by field name (legacy fields)
// or var (data form); the username and password are filled in from cfg
// unless fill sets them. fill may be nil when nothing else is asked. A
// refusal is a *register.Error (errors.Is(err, register.ErrUsernameTaken),
// …).
func Register(ctx context.Context, cfg session.Config, fill func(RegistrationForm) (map[string][]string, error)) error {
	err := session.PreAuth(ctx, cfg, func(ctx context.Context, _ stream.Features, iq session.IQFunc) error {
		res, err := iq(ctx, register.Request(jid.JID{}))
		if err != nil {
			return registrationError(err)
		}
		q, err := register.Parse(res)
		if err != nil {
			return err
		}
		rf := RegistrationForm{Instructions: q.Instructions, Form: q.Form, URL: q.URL}
		for _, f := range q.Fields {
			rf.Fields = append(rf.Fields, f.Name)
		}
		if q.Form == nil && len(q.Fields) == 0 {
			return ErrRegistrationForm
		}
		values := map[string][]string{}
		if fill != nil {
			v, err := fill(rf)
			if err != nil {
				return err
			}
			for k, vs := range v {
				values[k] = vs
			}
		}
		for name, v := range map[string]string{"username": cfg.JID.Local(), "password": cfg.Password} {
			if _, ok := values[name]; !ok {
				values[name] = []string{v}
			}
		}
		var sub register.Query
		if q.Form != nil {
			// Only the fields the form has (Submit sends extra keys too).
			for k := range values {
				if q.Form.Field(k) == nil {
					delete(values, k)
				}
			}
			sub, err = q.SubmitForm(values)
		} else {
			flat := make(map[string]string)
			for k, vs := range values {
				if _, asked := q.Field(k); asked && len(vs) > 0 {
					flat[k] = vs[0]
				}
			}
			sub, err = q.SubmitFields(flat)
		}
		if err != nil {
			return err
		}
		if _, err := iq(ctx, register.Set(jid.JID{}, sub)); err != nil {
			return registrationError(err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	return nil
}

// registrationError turns a stanza error answering a registration request
// into a *register.Error with its reason.
func registrationError(err error) error {
	var se *stanza.Error
	if !errors.As(err, &se) {
		return err
	}
	// The pre-authentication IQ function returns the stanza error alone;
	// register.ParseError reads it from an error reply.
	reply := xmlstream.New(stanza.NSClient, stanza.IQ, "type", stanza.TypeError).Append(se.Element())
	return register.ParseError(reply)
}

// ChangePassword changes the account's password on the server (XEP-0077
// §3.3). The running session still holds the old password for its
// reconnections: store the new one (Credentials) and restart the client
// with it. A server that needs more (a form, such as the old password)
// answers with a *register.Error carrying the form.
func (c *Client) ChangePassword(ctx context.Context, newPassword string) error {
	own := c.ownJID()
	req, err := register.ChangePassword(own.Domainpart(), own.Local(), newPassword)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	res, err := c.SendIQ(ctx, req)
	if err != nil {
		if res != nil {
			if rerr := register.ParseError(res); rerr != nil {
				err = rerr
			}
		}
		return fmt.Errorf("change password: %w", err)
	}
	// Reconnections must sign in with the new password from now on.
	if s := c.Session(); s != nil {
		s.SetPassword(newPassword)
	}
	return nil
}

// DeleteAccount deletes the account on the server (XEP-0077 §3.2): the
// server then closes our sessions. Stop the client afterwards (its
// reconnections can only fail); the local store is left as it is.
func (c *Client) DeleteAccount(ctx context.Context) error {
	res, err := c.SendIQ(ctx, register.Cancel(jid.JID{}))
	if err != nil {
		if res != nil {
			if rerr := register.ParseError(res); rerr != nil {
				err = rerr
			}
		}
		return fmt.Errorf("delete account: %w", err)
	}
	return nil
}
