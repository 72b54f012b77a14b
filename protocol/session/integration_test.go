package session_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/dial"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/sasl"
	"github.com/tern-im/tern/protocol/session"
	"github.com/tern-im/tern/protocol/stream"
	"github.com/tern-im/tern/protocol/xmpptest"
)

// starters are the real servers every login test runs against.
var starters = []struct {
	name  string
	start func(testing.TB, xmpptest.Options) *xmpptest.Server
}{
	{"prosody", xmpptest.StartProsody},
	{"ejabberd", xmpptest.StartEjabberd},
}

const password = "correct horse battery staple"

func config(srv *xmpptest.Server, local, resource string) session.Config {
	return session.Config{
		JID:      jid.MustParse(local + "@" + srv.Domain + "/" + resource),
		Password: password,
		Server:   srv.Addr(),
		TLS:      &tls.Config{RootCAs: srv.CA.Pool()},
	}
}

func dialT(t *testing.T, cfg session.Config) *session.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	s, err := session.Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("dial %s: %v", cfg.JID, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	})
	return s
}

// offered reads the SASL mechanisms and XEP-0440 channel-binding types the
// server offers after TLS, and the TLS version.
func offered(t *testing.T, srv *xmpptest.Server) (mechs, cbTypes []string, version uint16) {
	t.Helper()
	conn, err := tls.Dial("tcp", srv.DirectTLSAddr(), &tls.Config{RootCAs: srv.CA.Pool(), ServerName: srv.Domain})
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := xmlstream.WriteHeader(conn, xmlstream.Header{To: srv.Domain, Version: "1.0", NS: stream.NSClient}); err != nil {
		t.Fatal(err)
	}
	dec := xmlstream.NewDecoder(conn, xmlstream.Options{})
	if _, err := dec.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	el, err := dec.Next()
	if err != nil {
		t.Fatal(err)
	}
	f, err := stream.ParseFeatures(el)
	if err != nil {
		t.Fatal(err)
	}
	return f.Mechanisms, f.ChannelBindings, conn.ConnectionState().Version
}

// TestLogin covers, against each real server: STARTTLS and Direct TLS,
// SRV lookup, every SCRAM variant the server offers (-PLUS included), a
// wrong password, and untrusted and mismatched certificates.
func TestLogin(t *testing.T) {
	for _, st := range starters {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			srv := st.start(t, xmpptest.Options{})
			srv.CreateAccount(t, "alice", password)

			t.Run("STARTTLS", func(t *testing.T) {
				s := dialT(t, config(srv, "alice", "starttls"))
				info := s.Info()
				if info.DirectTLS {
					t.Errorf("DirectTLS = true on the STARTTLS port")
				}
				if info.JID.Bare().String() != "alice@"+srv.Domain || info.JID.Resource() == "" {
					t.Errorf("bound JID = %s", info.JID)
				}
				if info.TLS.Version < tls.VersionTLS12 || !info.TLS.HandshakeComplete {
					t.Errorf("TLS state: version %x complete %v", info.TLS.Version, info.TLS.HandshakeComplete)
				}
				if !info.SM || !info.Resumable {
					t.Errorf("stream management: SM=%v resumable=%v", info.SM, info.Resumable)
				}
			})
			t.Run("DirectTLS", func(t *testing.T) {
				cfg := config(srv, "alice", "direct")
				cfg.Server = srv.DirectTLSAddr()
				s := dialT(t, cfg)
				if !s.Info().DirectTLS {
					t.Errorf("DirectTLS = false on the Direct TLS port")
				}
			})
			t.Run("SRV", func(t *testing.T) {
				// Direct TLS preferred by priority (XEP-0368 §3 mixes both sets).
				cfg := config(srv, "alice", "srv")
				cfg.Server = ""
				cfg.Resolver = srvResolver{t: t, domain: srv.Domain, direct: srv.DirectTLSAddr(), starttls: srv.Addr(), directPrio: 5}
				if s := dialT(t, cfg); !s.Info().DirectTLS || s.Info().Endpoint != srv.DirectTLSAddr() {
					t.Errorf("SRV: connected to %s (direct=%v), want the preferred Direct TLS record", s.Info().Endpoint, s.Info().DirectTLS)
				}
				// The preferred record is down: the next one (STARTTLS) is used.
				cfg.Resolver = srvResolver{t: t, domain: srv.Domain, direct: closedAddr(t), starttls: srv.Addr(), directPrio: 5}
				if s := dialT(t, cfg); s.Info().DirectTLS || s.Info().Endpoint != srv.Addr() {
					t.Errorf("SRV fallback: connected to %s (direct=%v), want the STARTTLS record", s.Info().Endpoint, s.Info().DirectTLS)
				}
			})

			if n := testMechanisms(t, srv); n == 0 {
				// Prosody 0.12 binds only with tls-unique, which TLS 1.3 lacks;
				// TestChannelBindingTLS12 covers -PLUS there.
				t.Logf("%s offers no SCRAM -PLUS variant on TLS 1.3", st.name)
			}

			t.Run("WrongPassword", func(t *testing.T) {
				cfg := config(srv, "alice", "wrong")
				cfg.Password = "not the password"
				_, err := session.Dial(t.Context(), cfg)
				if !errors.Is(err, sasl.ErrNotAuthorized) {
					t.Fatalf("err = %v, want not-authorized", err)
				}
				t.Logf("user sees: %v", err)
			})
			t.Run("UnknownAccount", func(t *testing.T) {
				cfg := config(srv, "nobody", "x")
				_, err := session.Dial(t.Context(), cfg)
				if !errors.Is(err, sasl.ErrNotAuthorized) {
					t.Fatalf("err = %v, want not-authorized", err)
				}
			})
			t.Run("UntrustedCertificate", func(t *testing.T) {
				for _, addr := range []string{srv.Addr(), srv.DirectTLSAddr()} {
					cfg := config(srv, "alice", "x")
					cfg.Server = addr
					cfg.TLS = &tls.Config{RootCAs: xmpptest.NewCA(t).Pool()}
					_, err := session.Dial(t.Context(), cfg)
					var ce *dial.CertificateError
					if !errors.As(err, &ce) {
						t.Fatalf("%s: err = %v, want a certificate error", addr, err)
					}
					t.Logf("user sees: %v", err)
				}
			})
		})
	}
}

// TestMismatchedCertificate: a server whose certificate names another
// domain is refused with a clear error.
func TestMismatchedCertificate(t *testing.T) {
	for _, st := range starters {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			srv := st.start(t, xmpptest.Options{CertNames: []string{"other.example"}})
			for _, addr := range []string{srv.Addr(), srv.DirectTLSAddr()} {
				cfg := config(srv, "alice", "x")
				cfg.Server = addr
				_, err := session.Dial(t.Context(), cfg)
				var ce *dial.CertificateError
				if !errors.As(err, &ce) {
					t.Fatalf("%s: err = %v, want a certificate error", addr, err)
				}
				t.Logf("user sees: %v", err)
			}
		})
	}
}

// TestChannelBindingTLS12 runs every SCRAM variant over TLS 1.2, where
// channel binding uses tls-server-end-point or tls-unique rather than
// tls-exporter. Between this and TestLogin each server must have proven at
// least one -PLUS variant.
func TestChannelBindingTLS12(t *testing.T) {
	for _, st := range starters {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			srv := st.start(t, xmpptest.Options{TLSMaxVersion: tls.VersionTLS12})
			srv.CreateAccount(t, "alice", password)
			s := dialT(t, config(srv, "alice", "tls12"))
			if v := s.Info().TLS.Version; v != tls.VersionTLS12 {
				t.Fatalf("TLS version = %s", tls.VersionName(v))
			}
			if n := testMechanisms(t, srv); n == 0 {
				t.Errorf("%s offers no SCRAM -PLUS variant on TLS 1.2 either: channel binding is untested", st.name)
			}
		})
	}
}

// testMechanisms signs in with each SCRAM variant the server offers and
// returns how many -PLUS variants succeeded.
func testMechanisms(t *testing.T, srv *xmpptest.Server) (plus int) {
	t.Helper()
	mechs, cbTypes, version := offered(t, srv)
	t.Logf("%s offers %v, channel-binding types %v, over %s", srv.Kind, mechs, cbTypes, tls.VersionName(version))
	if !slices.Contains(mechs, sasl.SCRAMSHA1) {
		t.Fatalf("%s offers %v: no SCRAM-SHA-1?", srv.Kind, mechs)
	}
	for _, m := range mechs {
		if !strings.HasPrefix(m, "SCRAM-") {
			continue
		}
		isPlus := strings.HasSuffix(m, "-PLUS")
		if isPlus && version >= tls.VersionTLS13 && cbTypes == nil {
			// Policy (sasl.Select): on TLS 1.3 we bind only to a type the
			// server advertised (XEP-0440); guessing locks users out of
			// servers that bind to tls-unique. Check that we refuse to guess.
			t.Run(m, func(t *testing.T) {
				cfg := config(srv, "alice", "sasl")
				cfg.Mechanisms = []string{m}
				if _, err := session.Dial(t.Context(), cfg); !errors.Is(err, sasl.ErrNoMechanism) {
					t.Errorf("forced %s without an advertised binding type: %v", m, err)
				}
			})
			continue
		}
		ok := t.Run(m, func(t *testing.T) {
			cfg := config(srv, "alice", "sasl")
			cfg.Mechanisms = []string{m}
			s := dialT(t, cfg)
			info := s.Info()
			if info.Mechanism != m {
				t.Errorf("mechanism = %s, want %s", info.Mechanism, m)
			}
			if isPlus != (info.ChannelBinding != "") {
				t.Errorf("%s: channel binding %q", m, info.ChannelBinding)
			}
			t.Logf("%s over %s: channel binding %q", m, info.TLSVersion(), info.ChannelBinding)
		})
		if ok && isPlus {
			plus++
		}
	}
	return plus
}

// srvResolver answers the SRV lookups for the test domain with the
// server's loopback ports.
type srvResolver struct {
	t                        *testing.T
	domain, direct, starttls string
	directPrio               uint16 // priority of the Direct TLS record (STARTTLS has 10)
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func (r srvResolver) LookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	if name != r.domain || proto != "tcp" {
		return "", nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	addr, prio := r.starttls, uint16(10)
	if service == "xmpps-client" {
		addr, prio = r.direct, r.directPrio
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		r.t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	return "", []*net.SRV{{Target: host + ".", Port: uint16(p), Priority: prio, Weight: 1}}, nil
}

// message builds a chat message with a numbered body.
func message(to jid.JID, i int) *xmlstream.Element {
	return xmlstream.New(stream.NSClient, "message", "to", to.String(), "type", "chat", "id", "m"+strconv.Itoa(i)).
		Append(xmlstream.New(stream.NSClient, "body").SetText(fmt.Sprintf("message %d", i)))
}
