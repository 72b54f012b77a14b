package sasl

// Test hooks; compiled only into this package's tests.

// SetNonce fixes the client nonce of a SCRAM client before Start, for the
// RFC and XEP test vectors.
func SetNonce(c Client, nonce string) { c.(*SCRAMClient).nonce = nonce }

// SetMaxIterations lowers the iteration-count limit of a SCRAM client, so
// that fuzzing does not spend its time in PBKDF2.
func SetMaxIterations(c Client, n int) { c.(*SCRAMClient).maxIter = n }

// WithBinder returns p with channel-binding data computed by f instead of
// from p.TLS (p.TLS must still be set: it says the stream is encrypted and
// which TLS version it uses).
func WithBinder(p Policy, f func(typ string) ([]byte, error)) Policy {
	p.binder = f
	return p
}

// SASLprep exposes the SASLprep profile (RFC 4013).
func SASLprep(s string) (string, bool) { return saslprep(s) }
