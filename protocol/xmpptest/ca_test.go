package xmpptest_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"testing"

	"github.com/tern-im/tern/protocol/xmpptest"
)

func TestCA(t *testing.T) {
	ca := xmpptest.NewCA(t)
	other := xmpptest.NewCA(t)

	pem, err := os.ReadFile(ca.File())
	if err != nil {
		t.Fatal(err)
	}
	fromFile := x509.NewCertPool()
	if !fromFile.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no PEM certificate", ca.File())
	}

	tests := []struct {
		name    string
		cert    tls.Certificate
		pool    *x509.CertPool
		verify  string // name or IP to verify for
		wantErr any    // nil, or a pointer to the error type expected
	}{
		{"dns name", ca.TLSCert("tern.test", "conference.tern.test"), ca.Pool(), "conference.tern.test", nil},
		{"ip address", ca.TLSCert("tern.test", "127.0.0.1"), ca.Pool(), "127.0.0.1", nil},
		{"pool from File", ca.TLSCert("tern.test"), fromFile, "tern.test", nil},
		{"mismatched name", ca.TLSCert("other.example"), ca.Pool(), "tern.test", new(x509.HostnameError)},
		{"untrusted CA", other.TLSCert("tern.test"), ca.Pool(), "tern.test", new(x509.UnknownAuthorityError)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			leaf, err := x509.ParseCertificate(tc.cert.Certificate[0])
			if err != nil {
				t.Fatal(err)
			}
			if tc.cert.Leaf == nil || !tc.cert.Leaf.Equal(leaf) {
				t.Error("Leaf is not the first certificate of the chain")
			}
			inter := x509.NewCertPool()
			for _, der := range tc.cert.Certificate[1:] {
				c, err := x509.ParseCertificate(der)
				if err != nil {
					t.Fatal(err)
				}
				inter.AddCert(c)
			}
			_, err = leaf.Verify(x509.VerifyOptions{DNSName: tc.verify, Roots: tc.pool, Intermediates: inter})
			switch want := tc.wantErr.(type) {
			case nil:
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
			case *x509.HostnameError:
				if !errors.As(err, want) {
					t.Fatalf("Verify = %v, want a HostnameError", err)
				}
			case *x509.UnknownAuthorityError:
				if !errors.As(err, want) {
					t.Fatalf("Verify = %v, want an UnknownAuthorityError", err)
				}
			}
		})
	}
}

func TestCAWriteLeafServesTLS(t *testing.T) {
	ca := xmpptest.NewCA(t)
	certFile, keyFile := ca.WriteLeaf(t.TempDir(), "tern.test")
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatalf("LoadX509KeyPair: %v", err)
	}
	if len(cert.Certificate) != 2 {
		t.Fatalf("chain has %d certificates, want leaf + CA", len(cert.Certificate))
	}

	srvConf := &tls.Config{Certificates: []tls.Certificate{cert}}
	cliConf := &tls.Config{RootCAs: ca.Pool(), ServerName: "tern.test"}
	cli, srv := tlsPipe(t, cliConf, srvConf)
	if err := cli.Handshake(); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	if err := <-srv; err != nil {
		t.Fatalf("server handshake: %v", err)
	}
	if got := cli.ConnectionState().PeerCertificates[0].DNSNames; len(got) != 1 || got[0] != "tern.test" {
		t.Errorf("served DNS names %v, want [tern.test]", got)
	}
}
