// Package sasl implements the client side of XMPP authentication (RFC 6120
// §6) as I/O-free state machines: SCRAM-SHA-1, SCRAM-SHA-256 and
// SCRAM-SHA-512 with and without channel binding (RFC 5802, RFC 7677,
// RFC 5929, RFC 9266), PLAIN (RFC 4616) over TLS only, the XEP-0440
// channel-binding type capability, XEP-0474 SCRAM downgrade protection and
// the RFC 6120 §6.5 failure conditions.
//
// The caller owns the stream: it passes the server's <stream:features/> to
// [ParseOffer], builds a [Client] with [Select], sends [Client.Start]'s
// initial response in <auth/>, feeds every <challenge/> to [Client.Step],
// and hands the data of <success/> to [Client.Finish], which for SCRAM
// verifies that the server knows the password. A <failure/> becomes an error
// with [ParseFailure]. All payloads are raw bytes; base64 is the caller's job.
package sasl

import (
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

// NS is the namespace of the RFC 6120 SASL elements and stream feature.
const NS = "urn:ietf:params:xml:ns:xmpp-sasl"

// NSChannelBinding is the namespace of the XEP-0440 <sasl-channel-binding/>
// stream feature.
const NSChannelBinding = "urn:xmpp:sasl-cb:0"

// Mechanism names as advertised in <mechanisms/>.
const (
	// SCRAMSHA512Plus is SCRAM-SHA-512 with channel binding.
	SCRAMSHA512Plus = "SCRAM-SHA-512-PLUS"
	// SCRAMSHA256Plus is SCRAM-SHA-256 with channel binding (RFC 7677).
	SCRAMSHA256Plus = "SCRAM-SHA-256-PLUS"
	// SCRAMSHA1Plus is SCRAM-SHA-1 with channel binding (RFC 5802).
	SCRAMSHA1Plus = "SCRAM-SHA-1-PLUS"
	// SCRAMSHA512 is SCRAM-SHA-512 without channel binding.
	SCRAMSHA512 = "SCRAM-SHA-512"
	// SCRAMSHA256 is SCRAM-SHA-256 without channel binding (RFC 7677).
	SCRAMSHA256 = "SCRAM-SHA-256"
	// SCRAMSHA1 is SCRAM-SHA-1 without channel binding (RFC 5802).
	SCRAMSHA1 = "SCRAM-SHA-1"
	// Plain is the PLAIN mechanism (RFC 4616); only ever used inside TLS.
	Plain = "PLAIN"
)

// Channel-binding types (the IANA "channel-binding unique prefix").
const (
	// CBTLSExporter is tls-exporter (RFC 9266).
	CBTLSExporter = "tls-exporter"
	// CBTLSServerEndPoint is tls-server-end-point (RFC 5929 §4).
	CBTLSServerEndPoint = "tls-server-end-point"
	// CBTLSUnique is tls-unique (RFC 5929 §3).
	CBTLSUnique = "tls-unique"
)

// Errors returned by this package (besides [*Failure] and [*ServerError]).
var (
	// ErrNoMechanism means no mechanism both offered and usable was found.
	ErrNoMechanism = errors.New("sasl: no usable authentication mechanism")
	// ErrInvalidCredentials means the username or password cannot be used:
	// empty, or rejected by SASLprep (RFC 4013) or by PLAIN (NUL bytes).
	ErrInvalidCredentials = errors.New("sasl: the username or password is empty or contains characters that cannot be used")
	// ErrServerSignature means the server did not prove that it knows the
	// password (SCRAM server signature missing or wrong).
	ErrServerSignature = errors.New("sasl: the server could not prove it knows the password — possible attack")
	// ErrDowngrade means the XEP-0474 downgrade-protection hash sent by the
	// server does not match the mechanisms and channel-binding types we saw:
	// someone changed the stream features on the way.
	ErrDowngrade = errors.New("sasl: the list of sign-in methods was tampered with — possible attack")
	// ErrMalformed means the server sent a message that does not follow the
	// mechanism's syntax.
	ErrMalformed = errors.New("sasl: malformed message from the server")
	// ErrUnsupportedExtension means the server sent a mandatory SCRAM
	// extension (m=) that we do not understand (RFC 5802 §5.1).
	ErrUnsupportedExtension = errors.New("sasl: the server requires an unsupported SCRAM extension")
	// ErrState means a Client method was called out of order, or the server
	// sent a message the mechanism does not expect at this point.
	ErrState = errors.New("sasl: unexpected step in the authentication exchange")
	// ErrChannelBinding means channel-binding data could not be computed.
	ErrChannelBinding = errors.New("sasl: channel binding unavailable")
)

// Credentials are what the user authenticates with.
type Credentials struct {
	// Username is the JID localpart, already PRECIS-normalised.
	Username string
	// Password is the account password.
	Password string
	// Authzid is the authorization identity to act as, normally empty.
	Authzid string
}

// Offer is what the server advertised in its stream features.
type Offer struct {
	// Mechanisms are the texts of the <mechanism/> children of <mechanisms/>,
	// in the order the server sent them.
	Mechanisms []string
	// ChannelBindings are the XEP-0440 <channel-binding type=…/> values;
	// nil if <sasl-channel-binding/> was not advertised at all (an empty,
	// non-nil slice if it was advertised without types).
	ChannelBindings []string
}

// ParseOffer extracts the SASL mechanisms (RFC 6120 §6.4.1) and the XEP-0440
// channel-binding types from a <stream:features/> element. A nil element or
// one without <mechanisms/> yields an empty Offer.
func ParseOffer(features *xmlstream.Element) Offer {
	var o Offer
	if features == nil {
		return o
	}
	if mechs := features.Child(NS, "mechanisms"); mechs != nil {
		for _, m := range mechs.Children {
			if !m.Is(NS, "mechanism") {
				continue
			}
			if name := strings.TrimSpace(m.Text); name != "" {
				o.Mechanisms = append(o.Mechanisms, name)
			}
		}
	}
	if cb := features.Child(NSChannelBinding, "sasl-channel-binding"); cb != nil {
		o.ChannelBindings = []string{}
		for _, c := range cb.Children {
			if !c.Is(NSChannelBinding, "channel-binding") {
				continue
			}
			if typ := strings.TrimSpace(c.Get("type")); typ != "" {
				o.ChannelBindings = append(o.ChannelBindings, typ)
			}
		}
	}
	return o
}

// Policy says which mechanisms Select may choose.
type Policy struct {
	// Allow, if non-empty, restricts the choice to these mechanism names.
	Allow []string
	// TLS is the state of the encrypted connection, nil when the stream is
	// not encrypted: then PLAIN is refused and no channel binding is used.
	TLS *tls.ConnectionState

	// binder replaces ChannelBindingData in tests (export_test.go).
	binder func(typ string) ([]byte, error)
}

// Client is one authentication attempt with one mechanism.
type Client interface {
	// Mechanism returns the mechanism name to put in <auth mechanism=…/>.
	Mechanism() string
	// ChannelBinding returns the channel-binding type in use
	// ("tls-exporter", "tls-server-end-point", "tls-unique") or "".
	ChannelBinding() string
	// Start returns the initial response (raw bytes; the caller base64s it).
	Start() (initial []byte, err error)
	// Step answers a server challenge (raw, already base64-decoded).
	Step(challenge []byte) (response []byte, err error)
	// Finish checks the additional data of <success/>. For SCRAM it verifies
	// the server signature and fails with ErrServerSignature when it is
	// missing or wrong: only then is the server authenticated.
	Finish(additional []byte) error
}

// Select picks the strongest usable mechanism the server offered and builds
// its client. The order is SCRAM-SHA-512-PLUS, SCRAM-SHA-256-PLUS,
// SCRAM-SHA-1-PLUS, SCRAM-SHA-512, SCRAM-SHA-256, SCRAM-SHA-1, PLAIN. A -PLUS
// mechanism is chosen only when a channel-binding type can be computed on
// p.TLS; PLAIN only when p.TLS is set. It returns an error wrapping
// ErrNoMechanism, naming what was offered, when nothing fits, and one
// wrapping ErrInvalidCredentials when c cannot be used.
func Select(offer Offer, p Policy, c Credentials) (Client, error) {
	cbType, cbData := chooseChannelBinding(offer.ChannelBindings, p)
	offeredPlus := slices.ContainsFunc(offer.Mechanisms, func(m string) bool {
		return strings.HasSuffix(m, "-PLUS")
	})
	// The selection order, strongest first.
	preference := [...]string{
		SCRAMSHA512Plus, SCRAMSHA256Plus, SCRAMSHA1Plus,
		SCRAMSHA512, SCRAMSHA256, SCRAMSHA1,
		Plain,
	}
	var skipped []string
	plusSkipped := false
	for _, mech := range preference {
		if !slices.Contains(offer.Mechanisms, mech) {
			continue
		}
		if len(p.Allow) > 0 && !slices.Contains(p.Allow, mech) {
			skipped = append(skipped, mech+" is not allowed by the configuration")
			continue
		}
		if mech == Plain {
			if p.TLS == nil {
				skipped = append(skipped, "PLAIN is refused on a connection without TLS")
				continue
			}
			return asClient(newPlain(c))
		}
		h, plus := scramHash(mech)
		if plus {
			if cbType == "" {
				skipped = append(skipped, mech+" needs channel binding, which is not available on this connection")
				plusSkipped = plusSkipped || p.TLS != nil
				continue
			}
			return asClient(newSCRAM(mech, h, c, offer, "p="+cbType, cbType, cbData))
		}
		// RFC 5802 §6 and XEP-0440 business rules: "y" tells the server we
		// could bind but saw no -PLUS mechanism, so a server that did offer
		// one detects the stripping. When the server did offer -PLUS and we
		// cannot bind (or may not use it), "n" (XEP-0474 new rule 6).
		flag := "n"
		if !offeredPlus && canBind(p) {
			flag = "y"
		}
		cl, err := newSCRAM(mech, h, c, offer, flag, "", nil)
		if err != nil {
			return nil, err
		}
		// XEP-0440 rule 6: -PLUS and channel-binding types were advertised,
		// none of them usable, and not even the mandatory
		// tls-server-end-point: an attacker may have rewritten the list.
		// XEP-0474 (new rule 6) lets us go on only if the server's
		// downgrade-protection hash proves the list genuine.
		cl.requireSSDP = plusSkipped && offer.ChannelBindings != nil &&
			!slices.Contains(offer.ChannelBindings, CBTLSServerEndPoint)
		return cl, nil
	}
	offered := "nothing"
	if len(offer.Mechanisms) > 0 {
		offered = strings.Join(offer.Mechanisms, ", ")
	}
	msg := "server offered " + offered
	if len(skipped) > 0 {
		msg += "; " + strings.Join(skipped, "; ")
	}
	return nil, fmt.Errorf("%w (%s)", ErrNoMechanism, msg)
}

// asClient converts a constructor's result to a Client without turning a nil
// pointer into a non-nil interface.
func asClient[T Client](c T, err error) (Client, error) {
	if err != nil {
		return nil, err
	}
	return c, nil
}
