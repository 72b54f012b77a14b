package sasl_test

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"sort"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/sasl"
)

// scramServer is an independent, test-side SCRAM server (RFC 5802 §3) used
// to check the client against something other than itself.
type scramServer struct {
	hash     func() hash.Hash
	password string
	salt     []byte
	iter     int
	nonce    string // the server's part of the nonce
	extra    string // appended to server-first-message, e.g. ",h=…"
	cbData   []byte // what a p=<type> client must bind to

	// Filled in while running.
	gs2Header       string
	cbFlag          string // "n", "y" or "p=<type>"
	authzid         string // unescaped
	username        string // unescaped
	clientFirstBare string
	serverFirst     string
	fullNonce       string
}

func hashFor(mech string) func() hash.Hash {
	switch strings.TrimSuffix(mech, "-PLUS") {
	case sasl.SCRAMSHA1:
		return sha1.New
	case sasl.SCRAMSHA256:
		return sha256.New
	case sasl.SCRAMSHA512:
		return sha512.New
	}
	panic("not a SCRAM mechanism: " + mech)
}

func newScramServer(mech, password string) *scramServer {
	return &scramServer{
		hash:     hashFor(mech),
		password: password,
		salt:     []byte("sodium chloride!"),
		iter:     4096,
		nonce:    "serverpart-3rfcNHYJY1ZVvWVs7j",
	}
}

func unescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == ',':
			return "", errors.New("unescaped comma in saslname")
		case s[i] != '=':
			b.WriteByte(s[i])
		case strings.HasPrefix(s[i:], "=2C"):
			b.WriteByte(',')
			i += 2
		case strings.HasPrefix(s[i:], "=3D"):
			b.WriteByte('=')
			i += 2
		default:
			return "", errors.New("bad escape in saslname")
		}
	}
	return b.String(), nil
}

// first handles the client-first-message.
func (s *scramServer) first(clientFirst []byte) ([]byte, error) {
	msg := string(clientFirst)
	flag, rest, ok := strings.Cut(msg, ",")
	if !ok {
		return nil, errors.New("no gs2 header")
	}
	authz, bare, ok := strings.Cut(rest, ",")
	if !ok {
		return nil, errors.New("no gs2 header end")
	}
	switch {
	case flag == "n", flag == "y", strings.HasPrefix(flag, "p="):
	default:
		return nil, fmt.Errorf("bad cb flag %q", flag)
	}
	s.cbFlag = flag
	s.gs2Header = flag + "," + authz + ","
	if authz != "" {
		a, ok := strings.CutPrefix(authz, "a=")
		if !ok {
			return nil, fmt.Errorf("bad authzid %q", authz)
		}
		var err error
		if s.authzid, err = unescape(a); err != nil {
			return nil, err
		}
	}
	user, nonce, ok := strings.Cut(bare, ",r=")
	if !ok || !strings.HasPrefix(user, "n=") || strings.Contains(nonce, ",") {
		return nil, fmt.Errorf("bad client-first-message-bare %q", bare)
	}
	var err error
	if s.username, err = unescape(user[2:]); err != nil {
		return nil, err
	}
	s.clientFirstBare = bare
	s.fullNonce = nonce + s.nonce
	s.serverFirst = fmt.Sprintf("r=%s,s=%s,i=%d%s", s.fullNonce, base64.StdEncoding.EncodeToString(s.salt), s.iter, s.extra)
	return []byte(s.serverFirst), nil
}

func (s *scramServer) mac(key []byte, msg string) []byte {
	m := hmac.New(s.hash, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// final handles the client-final-message and returns the
// server-final-message, or an error when the proof or binding is wrong.
func (s *scramServer) final(clientFinal []byte) ([]byte, error) {
	msg := string(clientFinal)
	withoutProof, proofB64, ok := strings.Cut(msg, ",p=")
	if !ok {
		return nil, errors.New("no proof")
	}
	wantC := []byte(s.gs2Header)
	if strings.HasPrefix(s.cbFlag, "p=") {
		wantC = append(wantC, s.cbData...)
	}
	want := "c=" + base64.StdEncoding.EncodeToString(wantC) + ",r=" + s.fullNonce
	if withoutProof != want {
		return nil, fmt.Errorf("client-final-without-proof = %q, want %q", withoutProof, want)
	}
	salted, err := pbkdf2.Key(s.hash, s.password, s.salt, s.iter, s.hash().Size())
	if err != nil {
		return nil, err
	}
	clientKey := s.mac(salted, "Client Key")
	h := s.hash()
	h.Write(clientKey)
	storedKey := h.Sum(nil)
	authMessage := s.clientFirstBare + "," + s.serverFirst + "," + withoutProof
	proof, err := base64.StdEncoding.DecodeString(proofB64)
	if err != nil {
		return nil, err
	}
	sig := s.mac(storedKey, authMessage)
	if len(proof) != len(sig) {
		return nil, errors.New("proof length")
	}
	for i := range sig {
		sig[i] ^= proof[i]
	}
	// sig now holds the ClientKey the client claims to have.
	h = s.hash()
	h.Write(sig)
	if !hmac.Equal(h.Sum(nil), storedKey) {
		return nil, errors.New("invalid-proof")
	}
	v := s.mac(s.mac(salted, "Server Key"), authMessage)
	return []byte("v=" + base64.StdEncoding.EncodeToString(v)), nil
}

// ssdp computes the XEP-0474 value the way a server would, independently of
// the package's own code.
func ssdp(h func() hash.Hash, mechs, cbs []string) string {
	m := append([]string(nil), mechs...)
	sort.Strings(m)
	s := strings.Join(m, "\x1e")
	if cbs != nil {
		c := append([]string(nil), cbs...)
		sort.Strings(c)
		s += "\x1f" + strings.Join(c, "\x1e")
	}
	d := h()
	d.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(d.Sum(nil))
}

// exchange runs a complete SCRAM exchange between c and s. With
// finalInChallenge the server-final-message is sent as a challenge and
// <success/> carries no data (RFC 6120 §6.3.10).
func exchange(c sasl.Client, s *scramServer, finalInChallenge bool) error {
	cf, err := c.Start()
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	sf, err := s.first(cf)
	if err != nil {
		return fmt.Errorf("server first: %w", err)
	}
	cfin, err := c.Step(sf)
	if err != nil {
		return fmt.Errorf("step: %w", err)
	}
	sfin, err := s.final(cfin)
	if err != nil {
		return fmt.Errorf("server final: %w", err)
	}
	if finalInChallenge {
		resp, err := c.Step(sfin)
		if err != nil {
			return fmt.Errorf("step final: %w", err)
		}
		if len(resp) != 0 {
			return fmt.Errorf("response to server-final = %q, want empty", resp)
		}
		sfin = nil
	}
	if err := c.Finish(sfin); err != nil {
		return fmt.Errorf("finish: %w", err)
	}
	return nil
}

// fakeTLS returns a Policy that claims a TLS connection of the given
// version whose channel-binding data for the listed types is "cb:<type>".
func fakeTLS(version uint16, types ...string) sasl.Policy {
	p := sasl.Policy{TLS: &tls.ConnectionState{Version: version, HandshakeComplete: true}}
	return sasl.WithBinder(p, func(typ string) ([]byte, error) {
		for _, t := range types {
			if t == typ {
				return []byte("cb:" + typ), nil
			}
		}
		return nil, sasl.ErrChannelBinding
	})
}

// mustSelect is Select that fails the test on error.
func mustSelect(t testing.TB, o sasl.Offer, p sasl.Policy, c sasl.Credentials) sasl.Client {
	t.Helper()
	cl, err := sasl.Select(o, p, c)
	if err != nil {
		t.Fatalf("Select(%v): %v", o.Mechanisms, err)
	}
	return cl
}
