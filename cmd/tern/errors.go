package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/tern-im/tern/protocol/dial"
	"github.com/tern-im/tern/protocol/register"
	"github.com/tern-im/tern/protocol/sasl"
	"github.com/tern-im/tern/protocol/session"
	"github.com/tern-im/tern/protocol/stream"
	"github.com/tern-im/tern/storage/keyring"
)

// userError is an error whose text is written for the user; it keeps the
// underlying error for errors.Is and the logs.
type userError struct {
	msg string
	err error
}

func (e *userError) Error() string { return e.msg }
func (e *userError) Unwrap() error { return e.err }

// describe turns an error of signing in, registering or opening the data
// into one specific sentence for the user: a refused password, a
// certificate problem, an unreachable server, and so on. domain is the
// account's domain, for the messages.
func describe(err error, domain string) error {
	if err == nil {
		return nil
	}
	say := func(format string, args ...any) error {
		return &userError{msg: fmt.Sprintf(format, args...), err: err}
	}
	var (
		ce  *dial.CertificateError
		sf  *sasl.Failure
		re  *register.Error
		dns *net.DNSError
	)
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case errors.As(err, &ce):
		return say("The server's certificate cannot be trusted: %s. Tern does not connect to a server it cannot verify.", ce.Error())
	case errors.Is(err, sasl.ErrNotAuthorized):
		return say("The server did not accept this address and password. Check them and try again.")
	case errors.As(err, &sf):
		return say("The server refused the sign-in: %s.", sf.Error())
	case errors.Is(err, sasl.ErrServerSignature), errors.Is(err, sasl.ErrDowngrade):
		return say("The connection is not safe: %s.", trimPrefix(err))
	case errors.Is(err, sasl.ErrNoMechanism):
		return say("The server offers no sign-in method Tern can use safely.")
	case errors.Is(err, session.ErrNoTLS):
		return say("%s offers no encrypted connection; Tern only connects with TLS.", domain)
	case errors.Is(err, stream.ErrHostUnknown):
		return say("The server does not serve %s.", domain)
	case errors.Is(err, register.ErrUsernameTaken):
		return say("That address is already taken; choose another name.")
	case errors.Is(err, register.ErrNotAllowed), errors.Is(err, register.ErrNotSupported):
		return say("%s does not let you create accounts from Tern.", domain)
	case errors.As(err, &re):
		return say("The server refused to create the account: %s.", re.Error())
	case errors.Is(err, dial.ErrNoService):
		return say("%s offers no XMPP service.", domain)
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return say("Could not find the server of %s: the domain does not exist.", domain)
		}
		return say("Could not look up the server of %s: %s.", domain, dns.Err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return say("The server of %s refused the connection. It may be down; try again later.", domain)
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return say("Could not reach the server of %s: the network is unreachable.", domain)
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return say("The server of %s did not answer in time.", domain)
	case errors.Is(err, keyring.ErrWrongPassphrase):
		return say("That passphrase does not unlock Tern's data.")
	case errors.Is(err, keyring.ErrInvalidPassphrase):
		return say("That passphrase cannot be used: it is empty or has characters that cannot be typed reliably.")
	}
	return say("%s.", capitalise(trimPrefix(err)))
}

// isTimeout reports a network timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// trimPrefix drops the "package: " prefixes of an error's text.
func trimPrefix(err error) string {
	s := err.Error()
	for _, p := range []string{"register: ", "sasl: ", "dial: ", "session: ", "client: "} {
		s = strings.TrimPrefix(s, p)
	}
	return strings.TrimSuffix(s, ".")
}

// capitalise makes the first letter upper case.
func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
