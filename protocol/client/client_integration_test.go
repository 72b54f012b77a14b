package client_test

import (
	"context"
	"crypto/tls"
	"errors"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/ping"
	"github.com/tern-im/tern/protocol/sasl"
	"github.com/tern-im/tern/protocol/session"
	"github.com/tern-im/tern/protocol/stanza"
	"github.com/tern-im/tern/protocol/version"
	"github.com/tern-im/tern/protocol/xmpptest"
)

const password = "s3cret passphrase"

var starters = []struct {
	name  string
	start func(testing.TB, xmpptest.Options) *xmpptest.Server
}{
	{"prosody", xmpptest.StartProsody},
	{"ejabberd", xmpptest.StartEjabberd},
}

func sessionConfig(srv *xmpptest.Server, local, resource, addr string) session.Config {
	return session.Config{
		JID:      jid.MustParse(local + "@" + srv.Domain + "/" + resource),
		Password: password,
		Server:   addr,
		TLS:      &tls.Config{RootCAs: srv.CA.Pool()},
	}
}

// runClient starts c.Run and stops it at cleanup.
func runClient(t *testing.T, c *client.Client) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		for range c.Events() {
		}
		<-done
	})
}

// waitFor reads events until one matches, failing after a minute.
func waitFor[E client.Event](t *testing.T, c *client.Client) E {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case e, ok := <-c.Events():
			if !ok {
				t.Fatal("event channel closed")
			}
			if m, ok := e.(E); ok {
				return m
			}
			if f, ok := e.(client.Failed); ok {
				t.Fatalf("client failed: %v", f.Err)
			}
		case <-timeout:
			var zero E
			t.Fatalf("timed out waiting for %T", zero)
		}
	}
}

// TestReconnectAfterServerRestart: the client comes back online by itself
// after the server restarts (a new session: the old one cannot be resumed).
func TestReconnectAfterServerRestart(t *testing.T) {
	for _, st := range starters {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			srv := st.start(t, xmpptest.Options{})
			srv.CreateAccount(t, "alice", password)
			c := client.New(client.Config{
				Session:    sessionConfig(srv, "alice", "r", srv.Addr()),
				MinBackoff: 50 * time.Millisecond, MaxBackoff: time.Second,
			})
			runClient(t, c)
			first := waitFor[client.Online](t, c)
			if first.Info.Resumed {
				t.Fatal("first connection claims to be resumed")
			}
			srv.Restart(t)
			off := waitFor[client.Offline](t, c)
			t.Logf("offline: %v", off.Err)
			on := waitFor[client.Online](t, c)
			if on.Info.Resumed {
				t.Fatal("resumed a session across a server restart")
			}
			if err := ping.Ping(t.Context(), c, jid.JID{}); err != nil {
				t.Fatalf("ping after reconnect: %v", err)
			}
		})
	}
}

// TestResumeWhenNetworkReturns: with the network gone the client backs off;
// when it returns (NetworkChanged) the client retries at once and resumes.
func TestResumeWhenNetworkReturns(t *testing.T) {
	srv := xmpptest.StartProsody(t, xmpptest.Options{})
	srv.CreateAccount(t, "alice", password)
	proxy := xmpptest.NewProxy(t, srv.Addr())
	c := client.New(client.Config{
		Session:    sessionConfig(srv, "alice", "n", proxy.Addr()),
		MinBackoff: time.Hour, MaxBackoff: time.Hour, // only NetworkChanged can bring it back in time
	})
	runClient(t, c)
	waitFor[client.Online](t, c)
	proxy.Refuse(true)
	proxy.Cut()
	waitFor[client.Offline](t, c)        // the connection is lost
	off := waitFor[client.Offline](t, c) // the first attempt fails
	if off.Retry < 30*time.Minute {
		t.Fatalf("retry in %v, want the configured backoff", off.Retry)
	}
	proxy.Refuse(false)
	c.NetworkChanged()
	on := waitFor[client.Online](t, c)
	if !on.Info.Resumed {
		t.Fatal("the stream was not resumed")
	}
}

// TestIQRouting: unhandled requests get service-unavailable (RFC 6120
// §8.4); ping and software version are answered.
func TestIQRouting(t *testing.T) {
	for _, st := range starters {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			srv := st.start(t, xmpptest.Options{})
			srv.CreateAccount(t, "alice", password)
			srv.CreateAccount(t, "bob", password)
			bob := client.New(client.Config{
				Session:  sessionConfig(srv, "bob", "b", srv.Addr()),
				Software: client.SoftwareInfo{Name: "Tern", Version: "test"},
			})
			runClient(t, bob)
			bobJID := waitFor[client.Online](t, bob).Info.JID

			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			alice, err := session.Dial(ctx, sessionConfig(srv, "alice", "a", srv.Addr()))
			if err != nil {
				t.Fatal(err)
			}
			defer alice.Close(context.Background())

			_, err = alice.SendIQ(ctx, stanza.NewIQ("get", "", bobJID, xmlstream.New("urn:example:unknown", "query")))
			if !errors.Is(err, stanza.ErrServiceUnavailable) {
				t.Errorf("unknown request: err = %v, want service-unavailable", err)
			}
			if err := ping.Ping(ctx, alice, bobJID); err != nil {
				t.Errorf("ping: %v", err)
			}
			v, err := version.Query(ctx, alice, bobJID)
			if err != nil || v.Name != "Tern" || v.Version != "test" {
				t.Errorf("version = %+v, %v", v, err)
			}
			sv, err := version.Query(ctx, alice, jid.MustParse(srv.Domain))
			if err != nil || sv.Name == "" {
				t.Errorf("server version = %+v, %v", sv, err)
			}
			t.Logf("server software: %+v", sv)
		})
	}
}

// TestWrongPasswordIsPermanent: the client stops and reports instead of
// retrying a refused password.
func TestWrongPasswordIsPermanent(t *testing.T) {
	srv := xmpptest.StartProsody(t, xmpptest.Options{})
	srv.CreateAccount(t, "alice", password)
	cfg := sessionConfig(srv, "alice", "w", srv.Addr())
	cfg.Password = "wrong"
	c := client.New(client.Config{Session: cfg, MinBackoff: 10 * time.Millisecond})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var failed *client.Failed
	for e := range c.Events() {
		if f, ok := e.(client.Failed); ok {
			failed = &f
		}
	}
	err := <-done
	if failed == nil || !errors.Is(err, sasl.ErrNotAuthorized) {
		t.Fatalf("Run = %v, failed event %v", err, failed)
	}
}

// TestReconnectAfterPasswordChange: after ChangePassword the running client
// signs in with the new password when its connection is cut (resuming the
// stream authenticates again).
func TestReconnectAfterPasswordChange(t *testing.T) {
	srv := xmpptest.StartProsody(t, xmpptest.Options{})
	srv.CreateAccount(t, "erin", password)
	proxy := xmpptest.NewProxy(t, srv.Addr())
	c := client.New(client.Config{
		Session:    sessionConfig(srv, "erin", "p", proxy.Addr()),
		MinBackoff: 50 * time.Millisecond, MaxBackoff: time.Second,
	})
	runClient(t, c)
	waitFor[client.Online](t, c)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := c.ChangePassword(ctx, "brand new secret"); err != nil {
		t.Fatalf("change password: %v", err)
	}
	proxy.Cut()
	waitFor[client.Offline](t, c)
	waitFor[client.Online](t, c)
}
