// Package stream holds the stream-level vocabulary of an XMPP client
// connection (RFC 6120 §4): the namespaces, the <stream:features/> a server
// offers (RFC 6120 §4.3.2, with the features of XEP-0198 Stream Management,
// XEP-0352 Client State Indication, XEP-0440 SASL Channel-Binding Type
// Capability, RFC 6121 roster versioning and pre-approval) and
// <stream:error/> (RFC 6120 §4.9).
//
// The package does no I/O: it turns decoded elements into values and values
// into elements.
package stream

// Namespaces used at the stream level.
const (
	// NS is the namespace of the stream wrapper, <stream:features/> and
	// <stream:error/> (RFC 6120 §4.8.1).
	NS = "http://etherx.jabber.org/streams"
	// NSClient is the content namespace of a client-to-server stream.
	NSClient = "jabber:client"
	// NSErrors qualifies stream error conditions (RFC 6120 §4.9.2).
	NSErrors = "urn:ietf:params:xml:ns:xmpp-streams"
	// NSTLS is the STARTTLS namespace (RFC 6120 §5.4).
	NSTLS = "urn:ietf:params:xml:ns:xmpp-tls"
	// NSSASL is the SASL negotiation namespace (RFC 6120 §6.4).
	NSSASL = "urn:ietf:params:xml:ns:xmpp-sasl"
	// NSBind is the resource binding namespace (RFC 6120 §7).
	NSBind = "urn:ietf:params:xml:ns:xmpp-bind"
	// NSSession is the legacy session establishment namespace (RFC 3921
	// §3, kept as an optional feature by draft-cridland-xmpp-session).
	NSSession = "urn:ietf:params:xml:ns:xmpp-session"
	// NSSM is the XEP-0198 Stream Management namespace.
	NSSM = "urn:xmpp:sm:3"
	// NSCSI is the XEP-0352 Client State Indication namespace.
	NSCSI = "urn:xmpp:csi:0"
	// NSRosterVer is the roster versioning stream feature (RFC 6121 §2.6).
	NSRosterVer = "urn:xmpp:features:rosterver"
	// NSPreApproval is the subscription pre-approval stream feature (RFC
	// 6121 §3.4).
	NSPreApproval = "urn:xmpp:features:pre-approval"
	// NSCaps is the XEP-0115 Entity Capabilities namespace, which a server
	// may advertise in its features.
	NSCaps = "http://jabber.org/protocol/caps"
	// NSSASLCB is the XEP-0440 SASL Channel-Binding Type Capability
	// namespace.
	NSSASLCB = "urn:xmpp:sasl-cb:0"
)
