package sasl

import (
	"fmt"
	"strings"
)

// PlainClient is a PLAIN client (RFC 4616). [Select] only builds one for a
// connection protected by TLS, since PLAIN sends the password itself.
type PlainClient struct {
	msg     []byte
	started bool
	done    bool
}

func newPlain(c Credentials) (*PlainClient, error) {
	// RFC 4616 §2: no part may contain NUL; authcid and passwd are not empty.
	if c.Username == "" || c.Password == "" ||
		strings.IndexByte(c.Username, 0) >= 0 || strings.IndexByte(c.Password, 0) >= 0 ||
		strings.IndexByte(c.Authzid, 0) >= 0 {
		return nil, fmt.Errorf("%w: for PLAIN", ErrInvalidCredentials)
	}
	return &PlainClient{msg: []byte(c.Authzid + "\x00" + c.Username + "\x00" + c.Password)}, nil
}

// Mechanism returns "PLAIN".
func (p *PlainClient) Mechanism() string { return Plain }

// ChannelBinding returns "": PLAIN has no channel binding.
func (p *PlainClient) ChannelBinding() string { return "" }

// Start returns authzid NUL username NUL password.
func (p *PlainClient) Start() ([]byte, error) {
	if p.started {
		return nil, fmt.Errorf("%w: PLAIN already started", ErrState)
	}
	p.started = true
	msg := p.msg
	p.msg = nil // the caller owns the only copy of the password from now on
	return msg, nil
}

// Step always fails: PLAIN has no challenges.
func (p *PlainClient) Step([]byte) ([]byte, error) {
	p.done = true
	return nil, fmt.Errorf("%w: PLAIN got a challenge", ErrState)
}

// Finish accepts <success/> after Start. PLAIN defines no additional data,
// so data from the server is a protocol error.
func (p *PlainClient) Finish(additional []byte) error {
	if !p.started || p.done {
		return fmt.Errorf("%w: PLAIN finished out of order", ErrState)
	}
	p.done = true
	if len(additional) > 0 {
		return fmt.Errorf("%w: PLAIN success carried additional data", ErrMalformed)
	}
	return nil
}
