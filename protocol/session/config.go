// Package session negotiates and runs one client-to-server XMPP session
// (RFC 6120): connection over Direct TLS (XEP-0368) or STARTTLS, SASL
// authentication, resource binding, and Stream Management (XEP-0198) with
// acknowledgements, resumption and keepalive (XEP-0199 when Stream Management
// is not available).
//
// A Session outlives its TCP connections: when a connection drops, Reconnect
// resumes the stream (resending what the server has not acknowledged) or, when
// resumption fails, binds anew and reports exactly which stanzas may not have
// been delivered. Each connection has one reader and one writer goroutine;
// inbound stanzas, acknowledgements and the end of a connection arrive in
// order on one bounded queue ([Session.Items]).
package session

import (
	"crypto/tls"
	"io"
	"log/slog"
	"time"

	"github.com/tern-im/tern/protocol/dial"
	"github.com/tern-im/tern/protocol/jid"
)

// Config describes the account and how to reach its server.
type Config struct {
	// JID is the account address. A resource, when present, is requested at
	// bind time; the server may assign another.
	JID jid.JID
	// Password is the account password.
	Password string
	// Server is an optional manual "host:port" that replaces SRV lookup.
	Server string
	// TLS is the template for every TLS connection (RootCAs, …). ServerName
	// is always the account's domain (RFC 7590); verification is never off.
	TLS *tls.Config
	// Resolver does the SRV lookups; nil uses the system resolver.
	Resolver dial.Resolver
	// Mechanisms, when non-empty, restricts SASL to these mechanism names.
	Mechanisms []string
	// MaxElementSize limits every inbound element (0: 1 MiB).
	MaxElementSize int64
	// DisableSM turns XEP-0198 Stream Management off.
	DisableSM bool
	// AckBurst is how many unacknowledged stanzas trigger an <r/> (0: 5).
	AckBurst int
	// AckDelay is how long an unacknowledged stanza waits before an <r/> is
	// sent when the burst size is not reached (0: 1 s).
	AckDelay time.Duration
	// PingInterval is the idle time after which the connection is probed
	// (0: 60 s); PingTimeout is how long the probe may take before the
	// connection is declared dead (0: 20 s).
	PingInterval, PingTimeout time.Duration
	// Timeout bounds each negotiation step (0: 30 s).
	Timeout time.Duration
	// Lang is our xml:lang (0: "en").
	Lang string
	// QueueSize is the capacity of the inbound queue (0: 512).
	QueueSize int
	// Console, when set, receives a copy of every element sent and received
	// (the XML console), with SASL payloads redacted.
	Console io.Writer
	// Logger receives diagnostics; nil discards them. Bodies and secrets are
	// never logged.
	Logger *slog.Logger
}

func (c *Config) withDefaults() Config {
	o := *c
	if o.MaxElementSize == 0 {
		o.MaxElementSize = 1 << 20
	}
	if o.AckBurst <= 0 {
		o.AckBurst = 5
	}
	if o.AckDelay <= 0 {
		o.AckDelay = time.Second
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 60 * time.Second
	}
	if o.PingTimeout <= 0 {
		o.PingTimeout = 20 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Lang == "" {
		o.Lang = "en"
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 512
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Info describes what a connection negotiated.
type Info struct {
	// JID is the full JID the server bound.
	JID jid.JID
	// Endpoint is the host and port connected to; DirectTLS says whether TLS
	// started immediately (XEP-0368) rather than through STARTTLS.
	Endpoint  string
	DirectTLS bool
	// TLS is the state of the TLS connection.
	TLS tls.ConnectionState
	// Mechanism is the SASL mechanism used; ChannelBinding the channel
	// binding type, or "" when none was used.
	Mechanism      string
	ChannelBinding string
	// SM says whether Stream Management is enabled; Resumable whether the
	// server allows resuming this session, and for how long (MaxResume, 0 when
	// the server did not say).
	SM        bool
	Resumable bool
	MaxResume time.Duration
	// Resumed says whether this connection resumed an earlier stream.
	Resumed bool
	// ServerFeatures is the list of stream features (namespaces) offered
	// after authentication.
	ServerFeatures []string
}

// TLSVersion returns the TLS version as text ("TLS 1.3").
func (i Info) TLSVersion() string { return tls.VersionName(i.TLS.Version) }

// CipherSuite returns the cipher suite name.
func (i Info) CipherSuite() string { return tls.CipherSuiteName(i.TLS.CipherSuite) }
