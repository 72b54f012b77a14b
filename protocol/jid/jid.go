// Package jid implements XMPP addresses (JIDs) as defined by RFC 7622,
// "Extensible Messaging and Presence Protocol (XMPP): Address Format".
//
// A JID has the form [localpart@]domainpart[/resourcepart]. [Parse] and [New]
// enforce the rules of RFC 7622 on every part and store it in canonical form,
// so two JIDs that refer to the same entity compare equal with ==:
//
//   - the localpart is enforced with the PRECIS UsernameCaseMapped profile
//     (RFC 8265 §3.3, built on golang.org/x/text/secure/precis): width
//     mapping, lowercasing, NFC, IdentifierClass code points, and the Bidi
//     rule for strings with right-to-left characters. It may not contain
//     the characters " & ' / : < > @ (RFC 7622 §3.3.1);
//   - the domainpart is an IPv4 address, an IPv6 address in brackets
//     (written in RFC 5952 canonical form), or an internationalised domain
//     name in IDNA2008 form (RFC 7622 §3.2): lowercase, Unicode labels
//     (A-labels "xn--…" are converted to U-labels), at most 63 bytes per
//     label in DNS form, without the final dot;
//   - the resourcepart is enforced with the PRECIS OpaqueString profile
//     (RFC 8265 §4.2, RFC 7622 §3.4) and keeps its case.
//
// Every part is at most 1023 bytes long after normalisation. The zero [JID]
// is the empty address; it is never returned by a successful Parse.
//
// Errors wrap the sentinel errors of this package ([ErrInvalidLocal],
// [ErrTooLong], …) and read well to a user who typed the address:
//
//	jid "juliet capulet@example.com": invalid localpart: character ' ' (U+0020) is not allowed
package jid

import (
	"encoding/xml"
	"strings"
)

// JID is a normalised XMPP address. JIDs are small values: copy them freely
// and compare them with == (or [JID.Equal]). The zero value is the empty
// address, reported by [JID.IsZero].
type JID struct {
	local    string
	domain   string
	resource string
}

// Parse parses and normalises an address in the form
// [localpart@]domainpart[/resourcepart].
//
// The string is split as RFC 7622 §3.1 specifies: the resourcepart is
// everything after the first '/', and the localpart is everything before the
// first '@' that precedes that '/'. Each part is then enforced and normalised
// (see the package documentation). Errors wrap one of the package's sentinel
// errors and name the part that is wrong.
//
// Parse is idempotent: for every JID j it returns, Parse(j.String()) returns
// j again. Input that is already in canonical ASCII form, as servers send
// it, is parsed without allocating; the parts of the result then share the
// memory of s.
func Parse(s string) (JID, error) {
	if s == "" {
		return JID{}, &parseError{kind: ErrEmpty}
	}
	in := input{raw: s}
	rest, resource, hasResource := strings.Cut(s, "/")
	local, domain, hasLocal := strings.Cut(rest, "@")
	if !hasLocal {
		local, domain = "", rest
	}
	var j JID
	var err error
	if hasLocal {
		if local == "" {
			return JID{}, in.partError(partLocal, ErrEmptyLocal, `there is nothing before "@"`)
		}
		if j.local, err = normLocal(in, local); err != nil {
			return JID{}, err
		}
	}
	if j.domain, err = normDomain(in, domain); err != nil {
		return JID{}, err
	}
	if hasResource {
		if resource == "" {
			return JID{}, in.partError(partResource, ErrEmptyResource, `there is nothing after "/"`)
		}
		if j.resource, err = normResource(in, resource); err != nil {
			return JID{}, err
		}
	}
	return j, nil
}

// MustParse is like [Parse] but panics if s is not a valid address. It is
// meant for constants in code and tests only; never call it on input from
// users or peers.
func MustParse(s string) JID {
	j, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return j
}

// New builds a JID from its parts, enforcing and normalising each one with
// the same rules as [Parse]. An empty local or resource means the JID has no
// such part; domain is required. The parts are taken as they are (no
// splitting), so a '@' in local or domain or a '/' in domain is an error,
// while a resource may contain both.
func New(local, domain, resource string) (JID, error) {
	in := input{parts: JID{local: local, domain: domain, resource: resource}}
	var j JID
	var err error
	if local != "" {
		if j.local, err = normLocal(in, local); err != nil {
			return JID{}, err
		}
	}
	if j.domain, err = normDomain(in, domain); err != nil {
		return JID{}, err
	}
	if resource != "" {
		if j.resource, err = normResource(in, resource); err != nil {
			return JID{}, err
		}
	}
	return j, nil
}

// Local returns the localpart, or "" if the JID has none.
func (j JID) Local() string { return j.local }

// Domain returns the domainpart. It is "" only for the zero JID.
func (j JID) Domain() string { return j.domain }

// Resource returns the resourcepart, or "" if the JID has none.
func (j JID) Resource() string { return j.resource }

// Bare returns the JID without its resourcepart (localpart@domainpart).
func (j JID) Bare() JID { return JID{local: j.local, domain: j.domain} }

// Domainpart returns the JID made of the domainpart alone, the address of
// the server or service that hosts j.
func (j JID) Domainpart() JID { return JID{domain: j.domain} }

// WithResource returns j with its resourcepart replaced by r, enforced and
// normalised like the resourcepart in [Parse]. An empty r returns the bare
// JID. The zero JID has no domainpart to attach a resource to, so it gets
// an error wrapping [ErrEmptyDomain].
func (j JID) WithResource(r string) (JID, error) {
	if j.IsZero() {
		in := input{parts: JID{resource: r}}
		return JID{}, in.partError(partDomain, ErrEmptyDomain, emptyDomainDetail)
	}
	if r == "" {
		return j.Bare(), nil
	}
	res, err := normResource(input{parts: JID{local: j.local, domain: j.domain, resource: r}}, r)
	if err != nil {
		return JID{}, err
	}
	return JID{local: j.local, domain: j.domain, resource: res}, nil
}

// IsBare reports whether j is a bare JID: it has a domainpart and no
// resourcepart. The zero JID is not bare.
func (j JID) IsBare() bool { return j.domain != "" && j.resource == "" }

// IsZero reports whether j is the zero (empty) JID.
func (j JID) IsZero() bool { return j == JID{} }

// Equal reports whether j and o are the same address. Both are normalised,
// so this is the same as j == o.
func (j JID) Equal(o JID) bool { return j == o }

// String returns the canonical form [localpart@]domainpart[/resourcepart],
// or "" for the zero JID. Parse(j.String()) returns j.
func (j JID) String() string {
	if j.local == "" && j.resource == "" {
		return j.domain
	}
	n := len(j.domain)
	if j.local != "" {
		n += len(j.local) + 1
	}
	if j.resource != "" {
		n += len(j.resource) + 1
	}
	var b strings.Builder
	b.Grow(n)
	if j.local != "" {
		b.WriteString(j.local)
		b.WriteByte('@')
	}
	b.WriteString(j.domain)
	if j.resource != "" {
		b.WriteByte('/')
		b.WriteString(j.resource)
	}
	return b.String()
}

// MarshalText implements [encoding.TextMarshaler]. It returns the canonical
// form; the zero JID marshals to empty text.
func (j JID) MarshalText() ([]byte, error) {
	return []byte(j.String()), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler] with [Parse]. Empty
// text yields the zero JID, so that the zero value round-trips through
// MarshalText (for example in JSON or configuration files). On error j is
// left unchanged.
func (j *JID) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*j = JID{}
		return nil
	}
	p, err := Parse(string(text))
	if err != nil {
		return err
	}
	*j = p
	return nil
}

// MarshalXMLAttr implements [xml.MarshalerAttr]. The zero JID produces no
// attribute at all, so an unset 'to' or 'from' is omitted from a stanza.
func (j JID) MarshalXMLAttr(name xml.Name) (xml.Attr, error) {
	if j.IsZero() {
		return xml.Attr{}, nil
	}
	return xml.Attr{Name: name, Value: j.String()}, nil
}

// UnmarshalXMLAttr implements [xml.UnmarshalerAttr] with [Parse]. Unlike
// [JID.UnmarshalText], an empty attribute value is an error wrapping
// [ErrEmpty]: MarshalXMLAttr omits the attribute for the zero JID, and an
// empty 'to' or 'from' sent by a peer is not a valid address (RFC 6120
// §8.1.1, §8.1.2). On error j is left unchanged.
func (j *JID) UnmarshalXMLAttr(attr xml.Attr) error {
	p, err := Parse(attr.Value)
	if err != nil {
		return err
	}
	*j = p
	return nil
}
