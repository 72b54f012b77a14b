package sasl

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"hash"
	"slices"
)

// ChannelBindingData returns the channel-binding data of type typ
// ("tls-exporter", "tls-server-end-point" or "tls-unique") for the client
// side of the TLS connection cs:
//
//   - tls-exporter (RFC 9266): 32 bytes of keying material exported with the
//     label "EXPORTER-Channel-Binding" and no context. On TLS 1.2 crypto/tls
//     allows this only when the extended master secret was negotiated.
//   - tls-server-end-point (RFC 5929 §4.1): the hash of the server's leaf
//     certificate, with SHA-256 when the certificate's signature uses MD5 or
//     SHA-1 and otherwise the signature's own hash. Certificates whose
//     signature has no single hash (Ed25519) have no defined value.
//   - tls-unique (RFC 5929 §3): the first Finished message; TLS 1.2 and
//     below only.
//
// Errors wrap ErrChannelBinding.
func ChannelBindingData(cs *tls.ConnectionState, typ string) ([]byte, error) {
	if cs == nil || !cs.HandshakeComplete {
		return nil, fmt.Errorf("%w: %s: TLS handshake not complete", ErrChannelBinding, typ)
	}
	switch typ {
	case CBTLSExporter:
		return exportChannelBinding(cs)
	case CBTLSServerEndPoint:
		if len(cs.PeerCertificates) == 0 {
			return nil, fmt.Errorf("%w: %s: no server certificate", ErrChannelBinding, typ)
		}
		return serverEndPoint(cs.PeerCertificates[0])
	case CBTLSUnique:
		// RFC 8446 §C.5: tls-unique is not defined for TLS 1.3.
		if cs.Version >= tls.VersionTLS13 || len(cs.TLSUnique) == 0 {
			return nil, fmt.Errorf("%w: %s: not available on this connection", ErrChannelBinding, typ)
		}
		return slices.Clone(cs.TLSUnique), nil
	default:
		return nil, fmt.Errorf("%w: unknown type %q", ErrChannelBinding, typ)
	}
}

// exportChannelBinding computes tls-exporter (RFC 9266 §2).
func exportChannelBinding(cs *tls.ConnectionState) (data []byte, err error) {
	// A ConnectionState that was not returned by a tls.Conn has no exporter
	// and its ExportKeyingMaterial method dereferences a nil function; turn
	// that into an error instead of crashing.
	defer func() {
		if recover() != nil {
			data, err = nil, fmt.Errorf("%w: %s: connection state has no exporter", ErrChannelBinding, CBTLSExporter)
		}
	}()
	data, err = cs.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrChannelBinding, CBTLSExporter, err)
	}
	return data, nil
}

// serverEndPoint computes tls-server-end-point (RFC 5929 §4.1).
func serverEndPoint(cert *x509.Certificate) ([]byte, error) {
	var h func() hash.Hash
	switch cert.SignatureAlgorithm {
	case x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1,
		x509.SHA256WithRSA, x509.DSAWithSHA256, x509.ECDSAWithSHA256, x509.SHA256WithRSAPSS:
		h = sha256.New
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
		h = sha512.New384
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
		h = sha512.New
	default:
		return nil, fmt.Errorf("%w: %s: undefined for certificate signature algorithm %v",
			ErrChannelBinding, CBTLSServerEndPoint, cert.SignatureAlgorithm)
	}
	d := h()
	d.Write(cert.Raw)
	return d.Sum(nil), nil
}

// bind computes channel-binding data of type typ on p's connection.
func (p Policy) bind(typ string) ([]byte, error) {
	if p.binder != nil {
		return p.binder(typ)
	}
	return ChannelBindingData(p.TLS, typ)
}

// chooseChannelBinding picks the channel-binding type for a -PLUS mechanism,
// or "" when none can be used. advertised is the XEP-0440 list (nil when the
// server did not advertise one).
func chooseChannelBinding(advertised []string, p Policy) (string, []byte) {
	if p.TLS == nil {
		return "", nil
	}
	tls13 := p.TLS.Version >= tls.VersionTLS13
	var candidates []string
	switch {
	case advertised == nil && tls13:
		// The server did not say which type it binds to (XEP-0440), and on
		// TLS 1.3 there is no safe guess: RFC 9266 makes tls-exporter the
		// default, but deployed servers (ejabberd 23.01) offer -PLUS on TLS
		// 1.3 and bind only to tls-unique, which TLS 1.3 does not define, so
		// guessing would lock users out. XEP-0440 §4 leaves this case open for
		// SASL1; we then use the strongest SCRAM without channel binding and
		// say so honestly with the "n" flag.
		return "", nil
	case advertised == nil:
		// RFC 5802 §6: tls-unique is the default.
		candidates = []string{CBTLSUnique}
	case tls13:
		candidates = []string{CBTLSExporter, CBTLSServerEndPoint}
	default:
		// tls-exporter on TLS 1.2 only with the extended master secret,
		// which crypto/tls enforces when exporting.
		candidates = []string{CBTLSServerEndPoint, CBTLSUnique, CBTLSExporter}
	}
	for _, typ := range candidates {
		if advertised != nil && !slices.Contains(advertised, typ) {
			continue
		}
		if data, err := p.bind(typ); err == nil {
			return typ, data
		}
	}
	return "", nil
}

// canBind reports whether any channel-binding type can be computed on p's
// connection, whatever the server advertised: the condition for the SCRAM
// "y" flag.
func canBind(p Policy) bool {
	if p.TLS == nil {
		return false
	}
	for _, typ := range []string{CBTLSExporter, CBTLSServerEndPoint, CBTLSUnique} {
		if _, err := p.bind(typ); err == nil {
			return true
		}
	}
	return false
}
