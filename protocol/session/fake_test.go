package session_test

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/sasl"
	"github.com/tern-im/tern/protocol/session"
	"github.com/tern-im/tern/protocol/stanza"
	"github.com/tern-im/tern/protocol/stream"
	"github.com/tern-im/tern/protocol/xmpptest"
)

// Negotiation edge cases that real servers do not produce, against the
// scripted fake server.

const fakeDomain = "fake.test"

const mechanismsPLAIN = `<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>`

// starttlsOnly resolves the fake domain to a STARTTLS endpoint only (so no
// Direct TLS attempt reaches a script that does not expect one).
type starttlsOnly struct{ addr string }

func (r starttlsOnly) LookupSRV(_ context.Context, service, _, _ string) (string, []*net.SRV, error) {
	if service != "xmpp-client" {
		return "", nil, &net.DNSError{Err: "no such host", IsNotFound: true}
	}
	host, port, _ := net.SplitHostPort(r.addr)
	p, _ := strconv.Atoi(port)
	return "", []*net.SRV{{Target: host, Port: uint16(p), Priority: 1, Weight: 1}}, nil
}

func fakeConfig(ca *xmpptest.CA, addr string) session.Config {
	return session.Config{
		JID:      jid.MustParse("alice@" + fakeDomain + "/r"),
		Password: "pw",
		Resolver: starttlsOnly{addr},
		TLS:      &tls.Config{RootCAs: ca.Pool()},
		Timeout:  10 * time.Second,
	}
}

// login runs TLS and PLAIN authentication, then offers features.
func login(c *xmpptest.FakeConn, features string) {
	c.NegotiateTLS()
	c.Send("<stream:features>" + mechanismsPLAIN + "</stream:features>")
	loginAfterTLS(c, features)
}

func loginAfterTLS(c *xmpptest.FakeConn, features string) {
	c.Expect(sasl.NS, "auth")
	c.Send("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
	c.ReadHeader()
	c.SendHeader()
	c.Send("<stream:features>" + features + "</stream:features>")
}

// bind answers the bind request.
func bind(c *xmpptest.FakeConn) {
	iq := c.Expect(stream.NSClient, "iq")
	c.Send(fmt.Sprintf("<iq type='result' id='%s'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>alice@%s/r</jid></bind></iq>", iq.Get("id"), fakeDomain))
}

const bindFeature = "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
const smFeature = "<sm xmlns='urn:xmpp:sm:3'/>"

// TestNoTLSRefused: a server that does not offer STARTTLS gets no
// credentials, not even in a form it could replay.
func TestNoTLSRefused(t *testing.T) {
	ca := xmpptest.NewCA(t)
	got := make(chan string, 1)
	srv := xmpptest.NewFakeServer(t, ca, fakeDomain, func(c *xmpptest.FakeConn) {
		c.ReadHeader()
		c.SendHeader()
		c.Send("<stream:features>" + mechanismsPLAIN + "</stream:features>")
		el, err := c.Next()
		if err == nil {
			got <- el.Name.Local
		} else {
			got <- ""
		}
	})
	_, err := session.Dial(t.Context(), fakeConfig(ca, srv.Addr()))
	if !errors.Is(err, session.ErrNoTLS) {
		t.Fatalf("err = %v, want ErrNoTLS", err)
	}
	if name := <-got; name != "" {
		t.Fatalf("the client sent <%s> without TLS", name)
	}
	if !client.Permanent(err) {
		t.Error("a server without TLS is not reported as needing the user")
	}
}

// TestSeeOtherHost: a see-other-host stream error redirects the connection
// (RFC 6120 §4.9.3.19); the certificate is still checked for the account's
// domain.
func TestSeeOtherHost(t *testing.T) {
	ca := xmpptest.NewCA(t)
	target := xmpptest.NewFakeServer(t, ca, fakeDomain, func(c *xmpptest.FakeConn) {
		c.DirectTLS() // a redirect target is tried with Direct TLS first
		c.ReadHeader()
		c.SendHeader()
		c.Send("<stream:features>" + mechanismsPLAIN + "</stream:features>")
		loginAfterTLS(c, bindFeature)
		bind(c)
		_, _ = c.Next()
	})
	first := xmpptest.NewFakeServer(t, ca, fakeDomain, func(c *xmpptest.FakeConn) {
		c.ReadHeader()
		c.SendHeader()
		c.Send("<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>" + target.Addr() + "</see-other-host></stream:error>")
	})
	s, err := session.Dial(t.Context(), fakeConfig(ca, first.Addr()))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer s.Close(context.Background())
	if got := s.Info().Endpoint; got != target.Addr() || !s.Info().DirectTLS {
		t.Fatalf("connected to %s (direct %v), want the redirect target %s", got, s.Info().DirectTLS, target.Addr())
	}
	if s.Info().Mechanism != sasl.Plain {
		t.Errorf("mechanism %s", s.Info().Mechanism)
	}
}

// TestRedirectLoop: endless see-other-host is cut off.
func TestRedirectLoop(t *testing.T) {
	ca := xmpptest.NewCA(t)
	var self string
	var conns atomic.Int32
	srv := xmpptest.NewFakeServer(t, ca, fakeDomain, func(c *xmpptest.FakeConn) {
		if conns.Add(1) > 1 {
			// Redirect targets are tried with Direct TLS first.
			c.DirectTLS()
		}
		c.ReadHeader()
		c.SendHeader()
		c.Send("<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>" + self + "</see-other-host></stream:error>")
	})
	self = srv.Addr()
	_, err := session.Dial(t.Context(), fakeConfig(ca, srv.Addr()))
	if !errors.Is(err, session.ErrTooManyRedirects) {
		t.Fatalf("err = %v, want ErrTooManyRedirects", err)
	}
}

// TestAckTooHigh: acknowledging stanzas never sent ends the stream with
// undefined-condition (XEP-0198 §4).
func TestAckTooHigh(t *testing.T) {
	ca := xmpptest.NewCA(t)
	gotErr := make(chan *xmlstream.Element, 1)
	srv := xmpptest.NewFakeServer(t, ca, fakeDomain, func(c *xmpptest.FakeConn) {
		login(c, bindFeature+smFeature)
		bind(c)
		c.Expect(stream.NSSM, "enable")
		c.Send("<enabled xmlns='urn:xmpp:sm:3' id='sm-1' resume='true'/>")
		c.Send("<a xmlns='urn:xmpp:sm:3' h='5'/>")
		for {
			el, err := c.Next()
			if err != nil {
				gotErr <- nil
				return
			}
			if el.Is(stream.NS, "error") {
				gotErr <- el
				return
			}
		}
	})
	s, err := session.Dial(t.Context(), fakeConfig(ca, srv.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	it := <-s.Items()
	if !errors.Is(it.Err, session.ErrProtocol) {
		t.Fatalf("item = %+v, want a protocol error", it)
	}
	el := <-gotErr
	if el == nil || el.Child(stream.NSErrors, "undefined-condition") == nil {
		t.Fatalf("server got %v, want an undefined-condition stream error", el)
	}
}

// TestIQReplyFromStranger: a reply with the right id but from someone
// other than the addressee is not taken as the answer (RFC 6120 §8.1.2.1).
func TestIQReplyFromStranger(t *testing.T) {
	ca := xmpptest.NewCA(t)
	srv := xmpptest.NewFakeServer(t, ca, fakeDomain, func(c *xmpptest.FakeConn) {
		login(c, bindFeature)
		bind(c)
		iq := c.Expect(stream.NSClient, "iq")
		id := iq.Get("id")
		c.Send(fmt.Sprintf("<iq type='error' id='%s' from='mallory@%s/x'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>", id, fakeDomain))
		c.Send(fmt.Sprintf("<iq type='result' id='%s'/>", id)) // no from: only valid for the server
		c.Send(fmt.Sprintf("<iq type='result' id='%s' from='bob@%s/x'/>", id, fakeDomain))
		_, _ = c.Next()
	})
	s, err := session.Dial(t.Context(), fakeConfig(ca, srv.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	res, err := s.SendIQ(ctx, stanza.NewIQ("get", "", jid.MustParse("bob@"+fakeDomain+"/x"), xmlstream.New("urn:xmpp:ping", "ping")))
	if err != nil {
		t.Fatalf("SendIQ: %v (a spoofed reply was accepted?)", err)
	}
	if res.Get("from") != "bob@"+fakeDomain+"/x" {
		t.Fatalf("accepted the reply from %q", res.Get("from"))
	}
}

// TestStreamConflict: a conflict stream error (another client took the
// resource) ends the connection with an error the client treats as
// needing the user, not as a reason to fight back.
func TestStreamConflict(t *testing.T) {
	ca := xmpptest.NewCA(t)
	srv := xmpptest.NewFakeServer(t, ca, fakeDomain, func(c *xmpptest.FakeConn) {
		login(c, bindFeature)
		bind(c)
		c.Send("<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Replaced by new connection</text></stream:error></stream:stream>")
	})
	s, err := session.Dial(t.Context(), fakeConfig(ca, srv.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	it := <-s.Items()
	if !errors.Is(it.Err, stream.ErrConflict) || !client.Permanent(it.Err) {
		t.Fatalf("item = %+v, want a permanent conflict", it)
	}
	if !strings.Contains(it.Err.Error(), "Replaced by new connection") {
		t.Errorf("the server's text is not shown: %v", it.Err)
	}
}

// TestGarbageFromServer: malformed XML after login ends the connection
// with a clear error; the session does not panic or hang.
func TestGarbageFromServer(t *testing.T) {
	for name, garbage := range map[string]string{
		"not well-formed": "<message><body>x</message>",
		"doctype":         "<!DOCTYPE foo [<!ENTITY x 'y'>]>",
		"oversize":        "<message><body>" + strings.Repeat("a", 2<<20) + "</body></message>",
	} {
		t.Run(name, func(t *testing.T) {
			ca := xmpptest.NewCA(t)
			srv := xmpptest.NewFakeServer(t, ca, fakeDomain, func(c *xmpptest.FakeConn) {
				login(c, bindFeature)
				bind(c)
				c.Send(garbage)
				_, _ = c.Next()
			})
			s, err := session.Dial(t.Context(), fakeConfig(ca, srv.Addr()))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close(context.Background())
			it := <-s.Items()
			var xe *xmlstream.Error
			if !errors.As(it.Err, &xe) {
				t.Fatalf("item = %+v, want an XML error", it)
			}
			t.Logf("%s: %v", name, it.Err)
		})
	}
}

// TestBindRefused: a bind error is reported, not retried elsewhere.
func TestBindRefused(t *testing.T) {
	ca := xmpptest.NewCA(t)
	srv := xmpptest.NewFakeServer(t, ca, fakeDomain, func(c *xmpptest.FakeConn) {
		login(c, bindFeature)
		iq := c.Expect(stream.NSClient, "iq")
		c.Send(fmt.Sprintf("<iq type='error' id='%s'><error type='cancel'><not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>", iq.Get("id")))
		_, _ = c.Next()
	})
	_, err := session.Dial(t.Context(), fakeConfig(ca, srv.Addr()))
	if !errors.Is(err, session.ErrBind) || !errors.Is(err, stanza.ErrNotAllowed) {
		t.Fatalf("err = %v", err)
	}
}

// TestConsoleRedactsSASL: the XML console never shows SASL payloads (the
// PLAIN payload is the password in base64).
func TestConsoleRedactsSASL(t *testing.T) {
	ca := xmpptest.NewCA(t)
	srv := xmpptest.NewFakeServer(t, ca, fakeDomain, func(c *xmpptest.FakeConn) {
		login(c, bindFeature)
		bind(c)
		_, _ = c.Next()
	})
	var console strings.Builder
	cfg := fakeConfig(ca, srv.Addr())
	cfg.Password = "hunter2-very-secret"
	cfg.Console = &console
	s, err := session.Dial(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.Close(context.Background())
	out := console.String()
	payload := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00hunter2-very-secret"))
	if strings.Contains(out, "hunter2") || strings.Contains(out, payload) {
		t.Fatalf("the console shows the password:\n%s", out)
	}
	if !strings.Contains(out, "mechanism='PLAIN'>[redacted]</auth>") || !strings.Contains(out, "<bind") {
		t.Fatalf("console lacks the exchange:\n%s", out)
	}
}

// TestUndeliveredSurvivesFailedBind: when resumption fails and the new
// bind fails too, the unacknowledged stanzas stay queued; the next attempt
// that binds reports them as undelivered.
func TestUndeliveredSurvivesFailedBind(t *testing.T) {
	ca := xmpptest.NewCA(t)
	var conns atomic.Int32
	srv := xmpptest.NewFakeServer(t, ca, fakeDomain, func(c *xmpptest.FakeConn) {
		n := conns.Add(1)
		login(c, bindFeature+smFeature)
		if n > 1 {
			c.Expect(stream.NSSM, "resume")
			c.Send("<failed xmlns='urn:xmpp:sm:3'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>")
		}
		if n == 2 {
			iq := c.Expect(stream.NSClient, "iq")
			c.Send(fmt.Sprintf("<iq type='error' id='%s'><error type='wait'><internal-server-error xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>", iq.Get("id")))
			_, _ = c.Next()
			return
		}
		bind(c)
		c.Expect(stream.NSSM, "enable")
		c.Send("<enabled xmlns='urn:xmpp:sm:3' id='sm-1' resume='true'/>")
		if n == 1 {
			c.Expect(stream.NSClient, "message") // never acknowledged
			c.Close()
			return
		}
		_, _ = c.Next()
	})
	s, err := session.Dial(t.Context(), fakeConfig(ca, srv.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	msg := xmlstream.New(stream.NSClient, "message", "to", "bob@"+fakeDomain, "id", "keep-me")
	if err := s.Send(t.Context(), msg); err != nil {
		t.Fatal(err)
	}
	if it := <-s.Items(); it.Err == nil {
		t.Fatalf("item %+v, want the connection to end", it)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, _, err := s.Reconnect(ctx); !errors.Is(err, stanza.ErrInternalServerError) || errors.Is(err, session.ErrBind) {
		t.Fatalf("second attempt: %v, want a temporary bind failure", err)
	}
	info, undelivered, err := s.Reconnect(ctx)
	if err != nil {
		t.Fatalf("third attempt: %v", err)
	}
	if info.Resumed || len(undelivered) != 1 || undelivered[0].Get("id") != "keep-me" {
		t.Fatalf("resumed=%v undelivered=%v, want the unacknowledged message", info.Resumed, undelivered)
	}
}

// TestResumeResendsAtOnce: after a resumption, the stanzas the server never
// acknowledged (and those queued while the connection was down) are resent
// and an acknowledgement is asked for at once, without waiting for the
// server to say anything first. The <r/> sent on the lost connection does
// not count: the server may never have read it.
func TestResumeResendsAtOnce(t *testing.T) {
	ca := xmpptest.NewCA(t)
	var conns atomic.Int32
	got := make(chan []string, 1)
	srv := xmpptest.NewFakeServer(t, ca, fakeDomain, func(c *xmpptest.FakeConn) {
		n := conns.Add(1)
		login(c, bindFeature+smFeature)
		if n == 1 {
			bind(c)
			c.Expect(stream.NSSM, "enable")
			c.Send("<enabled xmlns='urn:xmpp:sm:3' id='sm-1' resume='true'/>")
			for range 10 { // the burst: the server reads it but never acknowledges it
				c.Expect(stream.NSClient, "message")
			}
			c.Expect(stream.NSSM, "r")
			c.Close()
			return
		}
		c.Expect(stream.NSSM, "resume")
		c.Send("<resumed xmlns='urn:xmpp:sm:3' previd='sm-1' h='8'/>")
		var seen []string
		for {
			el, err := c.Next()
			if err != nil {
				got <- append(seen, "error: "+err.Error())
				return
			}
			if el.Is(stream.NSSM, "r") {
				got <- append(seen, "r")
				c.Send("<a xmlns='urn:xmpp:sm:3' h='11'/>")
				_, _ = c.Next()
				return
			}
			seen = append(seen, el.Get("id"))
		}
	})
	cfg := fakeConfig(ca, srv.Addr())
	cfg.AckBurst = 10
	cfg.AckDelay = time.Hour // only the burst size or a resumption asks
	s, err := session.Dial(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	to := "bob@" + fakeDomain
	for i := range 10 {
		if err := s.Send(t.Context(), xmlstream.New(stream.NSClient, "message", "to", to, "id", "m"+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if it := <-s.Items(); it.Err == nil {
		t.Fatalf("item %+v, want the connection to end", it)
	}
	// Queued while down: one stanza. With the two the server did not
	// handle, fewer than the burst size.
	if err := s.Send(t.Context(), xmlstream.New(stream.NSClient, "message", "to", to, "id", "m10")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	info, _, err := s.Reconnect(ctx)
	if err != nil || !info.Resumed {
		t.Fatalf("reconnect: resumed=%v err=%v", info.Resumed, err)
	}
	select {
	case seen := <-got:
		want := []string{"m8", "m9", "m10", "r"}
		if strings.Join(seen, " ") != strings.Join(want, " ") {
			t.Fatalf("after resuming the server got %v, want %v", seen, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nothing was resent after the resumption")
	}
	var acked []string
	for len(acked) < 11 {
		it := <-s.Items()
		if it.Err != nil {
			t.Fatalf("lost: %v", it.Err)
		}
		for _, el := range it.Acked {
			acked = append(acked, el.Get("id"))
		}
	}
	if want := strings.Join(ids(0, 11), " "); strings.Join(acked, " ") != want {
		t.Fatalf("acknowledged %v, want %v", acked, want)
	}
}
