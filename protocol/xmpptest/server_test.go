package xmpptest_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/xmpptest"
)

type startFunc func(testing.TB, xmpptest.Options) *xmpptest.Server

type kind struct {
	name  string
	start startFunc
}

func kinds() []kind {
	return []kind{
		{xmpptest.KindProsody, xmpptest.StartProsody},
		{xmpptest.KindEjabberd, xmpptest.StartEjabberd},
	}
}

func tlsVersionName(v uint16) string {
	switch v {
	case tls.VersionTLS12:
		return "TLS 1.2"
	case tls.VersionTLS13:
		return "TLS 1.3"
	}
	return "?"
}

// TestServer covers the life of a default server: both c2s listeners,
// accounts, XEP-0092, restart with the same ports and data, and stop.
func TestServer(t *testing.T) {
	for _, k := range kinds() {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			began := time.Now()
			s := k.start(t, xmpptest.Options{})
			t.Logf("%s start time: %v", k.name, time.Since(began).Round(time.Millisecond))
			if s.Kind != k.name || s.Domain != xmpptest.DefaultDomain || s.CA == nil {
				t.Fatalf("Server{Kind %q, Domain %q, CA %v}", s.Kind, s.Domain, s.CA)
			}

			c, f, err := dialStartTLS(t, s.Addr(), s.Domain, clientTLS(s))
			if err != nil {
				t.Fatalf("STARTTLS handshake: %v", err)
			}
			st := c.tlsState()
			t.Logf("%s STARTTLS %s: mechanisms %v, channel bindings %v", k.name, tlsVersionName(st.Version), f.Mechanisms.List, f.cbTypes())
			if st.Version != tls.VersionTLS13 {
				t.Errorf("STARTTLS negotiated %s, want TLS 1.3 by default", tlsVersionName(st.Version))
			}
			for _, m := range []string{"PLAIN", "SCRAM-SHA-1"} {
				if !f.has(m) {
					t.Errorf("STARTTLS stream offers %v, missing %s", f.Mechanisms.List, m)
				}
			}

			d, df, err := dialDirectTLS(t, s.DirectTLSAddr(), s.Domain, clientTLS(s))
			if err != nil {
				t.Fatalf("Direct TLS handshake: %v", err)
			}
			t.Logf("%s Direct TLS %s: mechanisms %v, channel bindings %v", k.name, tlsVersionName(d.tlsState().Version), df.Mechanisms.List, df.cbTypes())
			if df.StartTLS != nil {
				t.Error("Direct TLS stream offers STARTTLS again")
			}
			if !slices.Equal(df.Mechanisms.List, f.Mechanisms.List) {
				t.Errorf("Direct TLS mechanisms %v differ from STARTTLS %v", df.Mechanisms.List, f.Mechanisms.List)
			}

			// Accounts: unknown before, usable right after CreateAccount.
			if ok, _ := d.authPlain("alice", "s3cret pass"); ok {
				t.Fatal("PLAIN auth succeeded for an account that does not exist yet")
			}
			s.CreateAccount(t, "alice", "s3cret pass")
			s.CreateAccount(t, "bob", "other")
			if ok, _ := c.authPlain("alice", "wrong"); ok {
				t.Fatal("PLAIN auth succeeded with a wrong password")
			}
			c, _, err = dialStartTLS(t, s.Addr(), s.Domain, clientTLS(s))
			if err != nil {
				t.Fatal(err)
			}
			ok, after := c.authPlain("alice", "s3cret pass")
			if !ok {
				t.Fatal("PLAIN auth failed for a freshly created account")
			}
			if after.Bind == nil || after.SM == nil {
				t.Errorf("post-auth features lack bind or XEP-0198 sm: %+v", after)
			}
			c.bind()
			name, version := c.softwareVersion()
			if gotName, gotVersion := s.Software(); gotName != name || gotVersion != version {
				t.Errorf("Software() = %q %q, server reports %q %q", gotName, gotVersion, name, version)
			}
			t.Logf("%s software: %s %s", k.name, name, version)

			// Restart: same ports, accounts kept.
			addr, daddr := s.Addr(), s.DirectTLSAddr()
			began = time.Now()
			s.Restart(t)
			t.Logf("%s restart time: %v", k.name, time.Since(began).Round(time.Millisecond))
			if s.Addr() != addr || s.DirectTLSAddr() != daddr {
				t.Fatalf("Restart moved the ports: %s %s → %s %s", addr, daddr, s.Addr(), s.DirectTLSAddr())
			}
			for _, acct := range [][2]string{{"alice", "s3cret pass"}, {"bob", "other"}} {
				d, _, err = dialDirectTLS(t, s.DirectTLSAddr(), s.Domain, clientTLS(s))
				if err != nil {
					t.Fatal(err)
				}
				if ok, _ := d.authPlain(acct[0], acct[1]); !ok {
					t.Errorf("account %s lost across Restart", acct[0])
				}
			}

			// Stop is idempotent and really stops the listeners.
			s.Stop(t)
			s.Stop(t)
			for _, a := range []string{s.Addr(), s.DirectTLSAddr()} {
				if nc, err := net.DialTimeout("tcp", a, time.Second); err == nil {
					nc.Close()
					t.Errorf("%s still accepts connections after Stop", a)
				}
			}
		})
	}
}

// TestServerTLS12 checks that TLSMaxVersion really caps the servers, and
// records what they offer on TLS 1.2 (channel bindings differ from 1.3).
func TestServerTLS12(t *testing.T) {
	for _, k := range kinds() {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			s := k.start(t, xmpptest.Options{TLSMaxVersion: tls.VersionTLS12, SMResumeTimeout: 42 * time.Second})
			c, f, err := dialStartTLS(t, s.Addr(), s.Domain, clientTLS(s))
			if err != nil {
				t.Fatal(err)
			}
			if v := c.tlsState().Version; v != tls.VersionTLS12 {
				t.Errorf("STARTTLS negotiated %s, want TLS 1.2", tlsVersionName(v))
			}
			t.Logf("%s STARTTLS TLS 1.2: mechanisms %v, channel bindings %v", k.name, f.Mechanisms.List, f.cbTypes())
			d, df, err := dialDirectTLS(t, s.DirectTLSAddr(), s.Domain, clientTLS(s))
			if err != nil {
				t.Fatal(err)
			}
			if v := d.tlsState().Version; v != tls.VersionTLS12 {
				t.Errorf("Direct TLS negotiated %s, want TLS 1.2", tlsVersionName(v))
			}
			t.Logf("%s Direct TLS TLS 1.2: mechanisms %v, channel bindings %v", k.name, df.Mechanisms.List, df.cbTypes())

			only13 := clientTLS(s)
			only13.MinVersion = tls.VersionTLS13
			if _, _, err := dialDirectTLS(t, s.DirectTLSAddr(), s.Domain, only13); err == nil {
				t.Error("a TLS 1.3-only client connected to a server capped at TLS 1.2")
			}
			if _, _, err := dialStartTLS(t, s.Addr(), s.Domain, only13); err == nil {
				t.Error("a TLS 1.3-only client negotiated STARTTLS with a server capped at TLS 1.2")
			}

			// The account machinery still works on a capped server, and
			// SMResumeTimeout is the XEP-0198 resumption window.
			s.CreateAccount(t, "carol", "pw")
			if ok, _ := d.authPlain("carol", "pw"); !ok {
				t.Fatal("PLAIN auth failed on the TLS 1.2 server")
			}
			d.bind()
			if window := d.enableSM(); window != "42" {
				t.Errorf("<enabled max=%q>, want 42 (SMResumeTimeout)", window)
			}
		})
	}
}

// TestServerDisableMechanisms checks that DisableMechanisms removes exactly
// the named mechanisms from what the server offers.
func TestServerDisableMechanisms(t *testing.T) {
	for _, k := range kinds() {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			disabled := []string{"SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"}
			s := k.start(t, xmpptest.Options{DisableMechanisms: disabled})
			type dialer func(testing.TB, string, string, *tls.Config) (*xmppConn, features, error)
			for _, d := range []struct {
				name string
				dial dialer
				addr string
			}{{"STARTTLS", dialStartTLS, s.Addr()}, {"Direct TLS", dialDirectTLS, s.DirectTLSAddr()}} {
				dial, addr := d.dial, d.addr
				_, f, err := dial(t, addr, s.Domain, clientTLS(s))
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range disabled {
					if f.has(m) {
						t.Errorf("mechanism %s offered although disabled: %v", m, f.Mechanisms.List)
					}
				}
				if !f.has("PLAIN") {
					t.Errorf("PLAIN missing: %v", f.Mechanisms.List)
				}
				t.Logf("%s %s with %v disabled: %v", k.name, d.name, disabled, f.Mechanisms.List)
			}
		})
	}
}

// TestServerCertificates checks the two certificate failures tests need: a
// name mismatch (CertNames) and an untrusted authority (another CA).
func TestServerCertificates(t *testing.T) {
	for _, k := range kinds() {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			mismatched := k.start(t, xmpptest.Options{CertNames: []string{"other.example"}})
			trusted := xmpptest.NewCA(t)
			untrusted := k.start(t, xmpptest.Options{})

			var hostErr x509.HostnameError
			if _, _, err := dialStartTLS(t, mismatched.Addr(), mismatched.Domain, clientTLS(mismatched)); !errors.As(err, &hostErr) {
				t.Errorf("STARTTLS to a mismatched certificate: %v, want a HostnameError", err)
			}
			if _, _, err := dialDirectTLS(t, mismatched.DirectTLSAddr(), mismatched.Domain, clientTLS(mismatched)); !errors.As(err, &hostErr) {
				t.Errorf("Direct TLS to a mismatched certificate: %v, want a HostnameError", err)
			}
			mismatched.CreateAccount(t, "dave", "pw") // the loopback admin path still works

			conf := &tls.Config{RootCAs: trusted.Pool(), ServerName: untrusted.Domain}
			var authErr x509.UnknownAuthorityError
			if _, _, err := dialStartTLS(t, untrusted.Addr(), untrusted.Domain, conf); !errors.As(err, &authErr) {
				t.Errorf("STARTTLS to an untrusted certificate: %v, want an UnknownAuthorityError", err)
			}
			if _, _, err := dialDirectTLS(t, untrusted.DirectTLSAddr(), untrusted.Domain, conf); !errors.As(err, &authErr) {
				t.Errorf("Direct TLS to an untrusted certificate: %v, want an UnknownAuthorityError", err)
			}
		})
	}
}

// TestServerUpload requests a XEP-0363 slot from upload.<Domain> and uses
// it over the loopback HTTPS listener, trusting only the test CA.
func TestServerUpload(t *testing.T) {
	for _, k := range kinds() {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			s := k.start(t, xmpptest.Options{})
			s.CreateAccount(t, "frank", "pw")
			c, _, err := dialDirectTLS(t, s.DirectTLSAddr(), s.Domain, clientTLS(s))
			if err != nil {
				t.Fatal(err)
			}
			if ok, _ := c.authPlain("frank", "pw"); !ok {
				t.Fatal("auth failed")
			}
			c.bind()
			body := []byte("hello, upload")
			typ, inner := c.iq("up1", "get", "upload."+s.Domain, fmt.Sprintf(
				"<request xmlns='urn:xmpp:http:upload:0' filename='hello.txt' size='%d' content-type='text/plain'/>", len(body)))
			if typ != "result" {
				t.Fatalf("slot request: %s %s", typ, inner)
			}
			var slot struct {
				Put struct {
					URL     string `xml:"url,attr"`
					Headers []struct {
						Name  string `xml:"name,attr"`
						Value string `xml:",chardata"`
					} `xml:"header"`
				} `xml:"put"`
				Get struct {
					URL string `xml:"url,attr"`
				} `xml:"get"`
			}
			if err := xml.Unmarshal([]byte(inner), &slot); err != nil {
				t.Fatalf("slot %q: %v", inner, err)
			}
			t.Logf("%s slot: PUT %s GET %s", k.name, slot.Put.URL, slot.Get.URL)
			for _, u := range []string{slot.Put.URL, slot.Get.URL} {
				if !strings.HasPrefix(u, "https://"+s.HTTPSAddr()+"/") {
					t.Errorf("slot URL %q not on HTTPSAddr %s", u, s.HTTPSAddr())
				}
			}
			hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CA.Pool()}}, Timeout: 20 * time.Second}
			t.Cleanup(hc.CloseIdleConnections)
			req, err := http.NewRequest(http.MethodPut, slot.Put.URL, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "text/plain")
			for _, h := range slot.Put.Headers {
				req.Header.Set(h.Name, h.Value)
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatalf("PUT: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
				t.Fatalf("PUT: %s", resp.Status)
			}
			resp, err = hc.Get(slot.Get.URL)
			if err != nil {
				t.Fatalf("GET: %v", err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
				t.Fatalf("GET: %s %q %v, want %q", resp.Status, got, err, body)
			}
		})
	}
}

// fatalTB records Fatal instead of failing the real test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Fatal(args ...any) { f.msg = fmt.Sprint(args...); runtime.Goexit() }
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestStartProsodyMissing checks the message when Prosody is not
// installed: a failure that says how to install it, never a skip.
func TestStartProsodyMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	tb := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		xmpptest.StartProsody(tb, xmpptest.Options{})
	}()
	<-done
	if !strings.Contains(tb.msg, "prosody not found") || !strings.Contains(tb.msg, "apt-get install prosody") {
		t.Errorf("Fatal message %q", tb.msg)
	}
}
