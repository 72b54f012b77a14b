package stream

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

// ErrNotFeatures is returned by ParseFeatures for an element that is not
// <stream:features/>.
var ErrNotFeatures = errors.New("stream: not a <stream:features/> element")

// Features is what a server offers in one <stream:features/> element (RFC
// 6120 §4.3.2). The set changes at each stream restart, so a value describes
// one stream only.
type Features struct {
	// StartTLS is set when <starttls/> is offered (RFC 6120 §5.3.1);
	// StartTLSRequired when it carries <required/>.
	StartTLS, StartTLSRequired bool
	// Mechanisms are the names inside the SASL <mechanisms/> feature (RFC
	// 6120 §6.4.1), in the server's order of preference; nil when SASL is
	// not offered.
	Mechanisms []string
	// ChannelBindings are the channel-binding types of the XEP-0440
	// <sasl-channel-binding/> feature (such as "tls-exporter"), nil when
	// the feature is absent.
	ChannelBindings []string
	// Bind is set when resource binding is offered (RFC 6120 §7.4).
	Bind bool
	// Session is set when the legacy session establishment is offered (RFC
	// 3921 §3); SessionOptional when it carries <optional/>, meaning the
	// client may skip it.
	Session, SessionOptional bool
	// SM is set when XEP-0198 Stream Management is offered.
	SM bool
	// CSI is set when XEP-0352 Client State Indication is offered.
	CSI bool
	// RosterVer is set when roster versioning is offered (RFC 6121 §2.6).
	RosterVer bool
	// PreApproval is set when subscription pre-approval is offered (RFC
	// 6121 §3.4).
	PreApproval bool
	// Raw is the <stream:features/> element itself, for features this type
	// does not model (XEP-0115 caps, SASL2, …).
	Raw *xmlstream.Element
}

// ParseFeatures reads a <stream:features/> element. Unknown features are
// ignored (they stay available through Raw); the only error is an element
// that is not <stream:features/>.
func ParseFeatures(e *xmlstream.Element) (Features, error) {
	if !e.Is(NS, "features") {
		if e == nil {
			return Features{}, ErrNotFeatures
		}
		return Features{}, fmt.Errorf("%w: got <%s xmlns='%s'>", ErrNotFeatures, e.Name.Local, e.Name.Space)
	}
	f := Features{Raw: e}
	for _, c := range e.Children {
		switch {
		case c.Is(NSTLS, "starttls"):
			f.StartTLS = true
			f.StartTLSRequired = c.Child(NSTLS, "required") != nil
		case c.Is(NSSASL, "mechanisms"):
			f.Mechanisms = []string{}
			for _, m := range c.Children {
				if !m.Is(NSSASL, "mechanism") {
					continue
				}
				if name := strings.TrimSpace(m.Text); name != "" {
					f.Mechanisms = append(f.Mechanisms, name)
				}
			}
			// Early drafts of XEP-0440 put <sasl-channel-binding/> inside
			// <mechanisms/>; accept it there when there is no top-level one.
			if cb := c.Child(NSSASLCB, "sasl-channel-binding"); cb != nil && f.ChannelBindings == nil {
				f.ChannelBindings = channelBindings(cb)
			}
		case c.Is(NSSASLCB, "sasl-channel-binding"):
			f.ChannelBindings = channelBindings(c)
		case c.Is(NSBind, "bind"):
			f.Bind = true
		case c.Is(NSSession, "session"):
			f.Session = true
			f.SessionOptional = c.Child(NSSession, "optional") != nil
		case c.Is(NSSM, "sm"):
			f.SM = true
		case c.Is(NSCSI, "csi"):
			f.CSI = true
		case c.Is(NSRosterVer, "ver"):
			f.RosterVer = true
		case c.Is(NSPreApproval, "sub"):
			f.PreApproval = true
		}
	}
	return f, nil
}

// channelBindings lists the 'type' attributes of the <channel-binding/>
// children of a XEP-0440 <sasl-channel-binding/> element. The result is
// never nil: the feature was present even if it listed nothing usable.
func channelBindings(e *xmlstream.Element) []string {
	types := []string{}
	for _, c := range e.Children {
		if !c.Is(NSSASLCB, "channel-binding") {
			continue
		}
		if t := strings.TrimSpace(c.Get("type")); t != "" {
			types = append(types, t)
		}
	}
	return types
}
