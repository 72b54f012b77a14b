package sasl_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/tern-im/tern/protocol/sasl"
)

// throwawayCert makes a self-signed ECDSA certificate for example.org
// signed with sigAlg.
func throwawayCert(t *testing.T, sigAlg x509.SignatureAlgorithm) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "example.org"},
		DNSNames:              []string{"example.org"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		SignatureAlgorithm:    sigAlg,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, leaf
}

// loopbackTLS performs a real TLS handshake of the given version over a
// loopback TCP connection and returns the client's and the server's view.
func loopbackTLS(t *testing.T, version uint16, cert tls.Certificate, leaf *x509.Certificate) (client, server tls.ConnectionState) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	type result struct {
		cs  tls.ConnectionState
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer c.Close()
		s := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: version, MaxVersion: version})
		err = s.HandshakeContext(ctx)
		done <- result{cs: s.ConnectionState(), err: err}
	}()

	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	c := tls.Client(conn, &tls.Config{RootCAs: roots, ServerName: "example.org", MinVersion: version, MaxVersion: version})
	cerr := c.HandshakeContext(ctx)
	r := <-done
	if cerr != nil || r.err != nil {
		t.Fatalf("handshake: client %v, server %v", cerr, r.err)
	}
	client = c.ConnectionState()
	if client.Version != version {
		t.Fatalf("negotiated %x, want %x", client.Version, version)
	}
	return client, r.cs
}

func exporterOf(t *testing.T, cs *tls.ConnectionState) []byte {
	t.Helper()
	b, err := cs.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestChannelBindingLoopback checks, on real TLS 1.2 and 1.3 connections,
// that the client computes what the server computes for every type, and that
// a SCRAM-SHA-256-PLUS exchange with the server's own binding data succeeds.
func TestChannelBindingLoopback(t *testing.T) {
	cert, leaf := throwawayCert(t, x509.ECDSAWithSHA384)
	wantEndPoint := sha512.Sum384(leaf.Raw) // RFC 5929 §4.1: the signature's hash

	for _, tc := range []struct {
		name    string
		version uint16
	}{{"TLS1.2", tls.VersionTLS12}, {"TLS1.3", tls.VersionTLS13}} {
		t.Run(tc.name, func(t *testing.T) {
			ccs, scs := loopbackTLS(t, tc.version, cert, leaf)

			// tls-exporter: crypto/tls negotiates the extended master
			// secret on TLS 1.2, so it works on both versions.
			got, err := sasl.ChannelBindingData(&ccs, sasl.CBTLSExporter)
			if err != nil || len(got) != 32 || !bytes.Equal(got, exporterOf(t, &scs)) {
				t.Errorf("tls-exporter = %x, %v; server %x", got, err, exporterOf(t, &scs))
			}

			got, err = sasl.ChannelBindingData(&ccs, sasl.CBTLSServerEndPoint)
			if err != nil || !bytes.Equal(got, wantEndPoint[:]) {
				t.Errorf("tls-server-end-point = %x, %v; want %x", got, err, wantEndPoint)
			}

			got, err = sasl.ChannelBindingData(&ccs, sasl.CBTLSUnique)
			if tc.version == tls.VersionTLS13 {
				if !errors.Is(err, sasl.ErrChannelBinding) {
					t.Errorf("tls-unique on TLS 1.3 = %x, %v", got, err)
				}
			} else if err != nil || len(got) == 0 || !bytes.Equal(got, scs.TLSUnique) {
				t.Errorf("tls-unique = %x, %v; server %x", got, err, scs.TLSUnique)
			}

			// Full exchanges: the server side binds to its own view.
			serverData := map[string][]byte{
				sasl.CBTLSExporter:       exporterOf(t, &scs),
				sasl.CBTLSServerEndPoint: wantEndPoint[:],
				sasl.CBTLSUnique:         scs.TLSUnique,
			}
			for _, adv := range []struct {
				list []string
				want string
			}{
				// Not advertised: tls-unique on TLS 1.2; on TLS 1.3 no guess.
				{nil, map[uint16]string{tls.VersionTLS12: sasl.CBTLSUnique, tls.VersionTLS13: ""}[tc.version]},
				{[]string{"tls-server-end-point", "tls-exporter", "tls-unique"},
					map[uint16]string{tls.VersionTLS12: sasl.CBTLSServerEndPoint, tls.VersionTLS13: sasl.CBTLSExporter}[tc.version]},
				{[]string{"tls-exporter"}, sasl.CBTLSExporter},
				{[]string{"tls-server-end-point"}, sasl.CBTLSServerEndPoint},
			} {
				offer := sasl.Offer{Mechanisms: []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}, ChannelBindings: adv.list}
				c := mustSelect(t, offer, sasl.Policy{TLS: &ccs}, sasl.Credentials{Username: "u", Password: "p"})
				wantMech := sasl.SCRAMSHA256Plus
				if adv.want == "" {
					wantMech = sasl.SCRAMSHA256
				}
				if c.Mechanism() != wantMech || c.ChannelBinding() != adv.want {
					t.Errorf("advertised %v: selected %s with %q, want %q", adv.list, c.Mechanism(), c.ChannelBinding(), adv.want)
					continue
				}
				s := newScramServer(wantMech, "p")
				s.cbData = serverData[adv.want]
				if err := exchange(c, s, false); err != nil {
					t.Errorf("advertised %v: %v", adv.list, err)
				}
			}

			// A server bound to different data (another connection's)
			// rejects the client.
			c := mustSelect(t, sasl.Offer{Mechanisms: []string{"SCRAM-SHA-256-PLUS"}, ChannelBindings: []string{sasl.CBTLSExporter, sasl.CBTLSServerEndPoint, sasl.CBTLSUnique}}, sasl.Policy{TLS: &ccs}, sasl.Credentials{Username: "u", Password: "p"})
			s := newScramServer(sasl.SCRAMSHA256Plus, "p")
			s.cbData = make([]byte, 32)
			if err := exchange(c, s, false); err == nil {
				t.Error("exchange with mismatching binding data succeeded")
			}
		})
	}
}

// TestServerEndPointHash covers the RFC 5929 §4.1 hash choice.
func TestServerEndPointHash(t *testing.T) {
	raw := []byte("not really DER, but only the bytes matter")
	s256, s384, s512 := sha256.Sum256(raw), sha512.Sum384(raw), sha512.Sum512(raw)
	tests := []struct {
		alg  x509.SignatureAlgorithm
		want []byte // nil: undefined
	}{
		{x509.MD5WithRSA, s256[:]},
		{x509.SHA1WithRSA, s256[:]},
		{x509.ECDSAWithSHA1, s256[:]},
		{x509.DSAWithSHA1, s256[:]},
		{x509.SHA256WithRSA, s256[:]},
		{x509.ECDSAWithSHA256, s256[:]},
		{x509.SHA256WithRSAPSS, s256[:]},
		{x509.SHA384WithRSA, s384[:]},
		{x509.ECDSAWithSHA384, s384[:]},
		{x509.SHA384WithRSAPSS, s384[:]},
		{x509.SHA512WithRSA, s512[:]},
		{x509.ECDSAWithSHA512, s512[:]},
		{x509.SHA512WithRSAPSS, s512[:]},
		{x509.PureEd25519, nil},
		{x509.MD2WithRSA, nil},
		{x509.UnknownSignatureAlgorithm, nil},
	}
	for _, tc := range tests {
		t.Run(tc.alg.String(), func(t *testing.T) {
			cs := &tls.ConnectionState{
				Version:           tls.VersionTLS13,
				HandshakeComplete: true,
				PeerCertificates:  []*x509.Certificate{{Raw: raw, SignatureAlgorithm: tc.alg}},
			}
			got, err := sasl.ChannelBindingData(cs, sasl.CBTLSServerEndPoint)
			if tc.want == nil {
				if !errors.Is(err, sasl.ErrChannelBinding) {
					t.Fatalf("= %x, %v; want ErrChannelBinding", got, err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("= %x, %v; want %x", got, err, tc.want)
			}
		})
	}
}

func TestChannelBindingDataErrors(t *testing.T) {
	complete := &tls.ConnectionState{Version: tls.VersionTLS12, HandshakeComplete: true}
	tests := []struct {
		name string
		cs   *tls.ConnectionState
		typ  string
	}{
		{"nil state", nil, sasl.CBTLSExporter},
		{"handshake incomplete", &tls.ConnectionState{Version: tls.VersionTLS12, TLSUnique: []byte{1}}, sasl.CBTLSUnique},
		// Not from a tls.Conn: no exporter function inside; must not panic.
		{"hand-made state exporter", complete, sasl.CBTLSExporter},
		{"no certificate", complete, sasl.CBTLSServerEndPoint},
		{"no tls-unique", complete, sasl.CBTLSUnique},
		{"tls-unique on 1.3", &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true, TLSUnique: []byte{1}}, sasl.CBTLSUnique},
		{"unknown type", complete, "tls-foo"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if b, err := sasl.ChannelBindingData(tc.cs, tc.typ); b != nil || !errors.Is(err, sasl.ErrChannelBinding) {
				t.Fatalf("= %x, %v", b, err)
			}
		})
	}
	// tls-unique is copied, not aliased.
	cs := &tls.ConnectionState{Version: tls.VersionTLS12, HandshakeComplete: true, TLSUnique: []byte{1, 2, 3}}
	b, err := sasl.ChannelBindingData(cs, sasl.CBTLSUnique)
	if err != nil {
		t.Fatal(err)
	}
	b[0] = 9
	if cs.TLSUnique[0] != 1 {
		t.Error("ChannelBindingData returned the connection's own slice")
	}
}
