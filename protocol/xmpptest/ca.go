package xmpptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// CA is a throwaway certificate authority for tests: an ECDSA P-256 root valid
// for about a day, whose certificate lives in a PEM file under t.TempDir().
// Clients trust it through Pool or File, never through the system store. A
// second CA from another NewCA call is independent: its leaves are
// "untrusted" for clients that trust only the first.
type CA struct {
	cert    *x509.Certificate
	certDER []byte
	key     *ecdsa.PrivateKey
	file    string
	dir     string

	mu     sync.Mutex // guards serial and nfiles
	serial int64
	nfiles int
}

// NewCA creates a new CA whose files are written to a directory from
// t.TempDir(). It calls t.Fatal on any failure.
func NewCA(t testing.TB) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("xmpptest: generate CA key: %v", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Tern test CA " + strconv.FormatInt(now.UnixNano(), 36), Organization: []string{"Tern tests"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("xmpptest: create CA certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("xmpptest: parse CA certificate: %v", err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatalf("xmpptest: write CA certificate: %v", err)
	}
	return &CA{cert: cert, certDER: der, key: key, file: file, dir: dir, serial: 1}
}

// Pool returns a new certificate pool containing only this CA.
func (c *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.cert)
	return p
}

// File returns the path of the CA certificate in PEM form (for --ca-file and
// server configuration).
func (c *CA) File() string { return c.file }

// Certificate returns the parsed CA certificate.
func (c *CA) Certificate() *x509.Certificate { return c.cert }

// TLSCert returns a leaf certificate signed by the CA for the given DNS names
// and IP addresses (a name that parses as an IP becomes an IP SAN). The chain
// includes the CA certificate. With no names it is issued for "localhost".
// It panics only if key generation or signing fails, which does not depend on
// input.
func (c *CA) TLSCert(names ...string) tls.Certificate {
	leafDER, key, err := c.issue(names)
	if err != nil {
		panic("xmpptest: issue leaf certificate: " + err.Error())
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		panic("xmpptest: parse leaf certificate: " + err.Error())
	}
	return tls.Certificate{
		Certificate: [][]byte{leafDER, c.certDER},
		PrivateKey:  key,
		Leaf:        leaf,
	}
}

// WriteLeaf issues a leaf as TLSCert does and writes it to dir as PEM files:
// certFile holds the leaf followed by the CA certificate, keyFile the PKCS#8
// private key (mode 0644 so that a server running as another user can read
// it; the key protects nothing outside the test). It panics if the files
// cannot be written.
func (c *CA) WriteLeaf(dir string, names ...string) (certFile, keyFile string) {
	leafDER, key, err := c.issue(names)
	if err != nil {
		panic("xmpptest: issue leaf certificate: " + err.Error())
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic("xmpptest: marshal leaf key: " + err.Error())
	}
	c.mu.Lock()
	c.nfiles++
	n := c.nfiles
	c.mu.Unlock()
	base := "leaf" + strconv.Itoa(n)
	certFile = filepath.Join(dir, base+".crt")
	keyFile = filepath.Join(dir, base+".key")
	chain := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER})
	chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.certDER})...)
	if err := os.WriteFile(certFile, chain, 0o644); err != nil {
		panic("xmpptest: write leaf certificate: " + err.Error())
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o644); err != nil {
		panic("xmpptest: write leaf key: " + err.Error())
	}
	return certFile, keyFile
}

func (c *CA) issue(names []string) ([]byte, *ecdsa.PrivateKey, error) {
	if len(names) == 0 {
		names = []string{"localhost"}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	c.serial++
	serial := c.serial
	c.mu.Unlock()
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	if err != nil {
		return nil, nil, err
	}
	return der, key, nil
}
