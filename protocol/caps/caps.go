// Package caps implements XEP-0115 Entity Capabilities (version 1.6.0):
// the <c/> element that annotates presence with a hash of the sender's
// service discovery information, the verification string algorithm (§5.1)
// and its checks (§5.4), so that disco#info answers can be cached by
// verified hash and shared between contacts running the same software.
//
// This package cannot import protocol/disco (features do not import each
// other), so it has its own [Info] with the same shape as disco.Info;
// convert field by field (caps.Identity(id) converts a disco.Identity).
package caps

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"

	"github.com/tern-im/tern/protocol/form"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

// NS is the XEP-0115 namespace, also the disco feature of entities that
// support it.
const NS = "http://jabber.org/protocol/caps"

// FeatureOptimize is the disco feature of servers that strip redundant
// caps from presence (XEP-0115 §8.4).
const FeatureOptimize = NS + "#optimize"

// Hash function names, as in the IANA Hash Function Textual Names
// registry (XEP-0115 §9.1).
const (
	// HashSHA1 is mandatory to implement (§9.1) and what we advertise with.
	HashSHA1   = "sha-1"
	HashSHA256 = "sha-256"
	HashSHA512 = "sha-512"
)

var (
	// ErrMalformed: the element is not a usable <c/> (no node or ver).
	ErrMalformed = errors.New("caps: malformed caps element")
	// ErrUnsupportedHash: the hash function is not one we implement.
	// XEP-0115 §5.4: such a ver may not be verified or cached globally;
	// the disco#info answer belongs to the sender's JID only.
	ErrUnsupportedHash = errors.New("caps: unsupported hash function")
	// ErrIllFormed: the disco#info answer breaks a rule of §5.4
	// (duplicate identity, feature or FORM_TYPE, or a FORM_TYPE with
	// several values) and must not be used to verify or cache anything.
	ErrIllFormed = errors.New("caps: ill-formed service discovery information")
)

// Identity is a service discovery identity; it has the same fields as
// disco.Identity.
type Identity struct {
	Category, Type string
	Lang, Name     string
}

// Info is what the verification string covers: the identities, features
// and XEP-0128 extended information forms of a disco#info answer.
type Info struct {
	Identities []Identity
	Features   []string
	Forms      []form.Form
}

// Caps is a <c/> element.
type Caps struct {
	// Hash names the hash function; "" marks the legacy format of
	// XEP-0115 before version 1.4, whose ver cannot be verified (§12).
	Hash string
	// Node identifies the software, usually a URL of its project.
	Node string
	// Ver is the verification string.
	Ver string
	// Ext is the deprecated 'ext' attribute, kept for the legacy format.
	Ext string
}

// Parse reads a <c/> element, or the <c/> child of a presence.
func Parse(el *xmlstream.Element) (Caps, error) {
	if el != nil && !el.Is(NS, "c") {
		el = el.Child(NS, "c")
	}
	if el == nil {
		return Caps{}, ErrMalformed
	}
	c := Caps{Hash: el.Get("hash"), Node: el.Get("node"), Ver: el.Get("ver"), Ext: el.Get("ext")}
	if c.Node == "" || c.Ver == "" {
		return Caps{}, ErrMalformed
	}
	return c, nil
}

// Element returns the <c/> element for c.
func (c Caps) Element() *xmlstream.Element {
	el := xmlstream.New(NS, "c")
	return el.Set("hash", c.Hash).Set("node", c.Node).Set("ver", c.Ver).Set("ext", c.Ext)
}

// InfoNode returns the node to send the disco#info request to: node#ver
// (XEP-0115 §6.2).
func (c Caps) InfoNode() string { return c.Node + "#" + c.Ver }

// Legacy reports whether c is in the legacy format (no 'hash'): its ver
// is not a verification string and must not be cached by ver (§12).
func (c Caps) Legacy() bool { return c.Hash == "" }

// New returns the <c/> content advertising info under node, hashed with
// SHA-1, the hash every implementation supports.
func New(node string, info Info) (Caps, error) {
	ver, err := Ver(info, HashSHA1)
	if err != nil {
		return Caps{}, err
	}
	return Caps{Hash: HashSHA1, Node: node, Ver: ver}, nil
}

// Supported reports whether the hash function name is one Ver implements.
func Supported(name string) bool { return newHash(name) != nil }

func newHash(name string) hash.Hash {
	switch name {
	case HashSHA1:
		return sha1.New()
	case HashSHA256:
		return sha256.New()
	case HashSHA512:
		return sha512.New()
	}
	return nil
}

// Verify reports whether ver is the verification string of info under
// the hash function name. Only a true result allows caching info globally
// by ver (XEP-0115 §5.4); a false one means the answer belongs to the
// sender alone (ill-formed, unsupported hash, or a mismatch).
func Verify(info Info, name, ver string) bool {
	v, err := Ver(info, name)
	return err == nil && v == ver
}

// Ver computes the verification string of info (XEP-0115 §5.1) with the
// hash function name, after the checks of §5.4: a duplicate identity
// (same category/type/lang/name), a duplicate feature, two forms with the
// same FORM_TYPE, or a FORM_TYPE with differing values make info
// ill-formed (ErrIllFormed). A form without a FORM_TYPE field, or whose
// FORM_TYPE is not of type "hidden", is ignored: it is left out of the
// string.
func Ver(info Info, name string) (string, error) {
	h := newHash(name)
	if h == nil {
		return "", fmt.Errorf("%w: %q", ErrUnsupportedHash, clip(name))
	}
	s, err := verString(info)
	if err != nil {
		return "", err
	}
	h.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}

// verString builds S of §5.1. All sorting is by "i;octet" collation
// (RFC 4790 §9.3): byte order, which is how Go compares strings.
func verString(info Info) (string, error) {
	ids := slices.Clone(info.Identities)
	slices.SortFunc(ids, compareIdentity)
	for i := 1; i < len(ids); i++ {
		if ids[i] == ids[i-1] {
			return "", fmt.Errorf("%w: duplicate identity %s/%s", ErrIllFormed, clip(ids[i].Category), clip(ids[i].Type))
		}
	}
	features := slices.Clone(info.Features)
	slices.Sort(features)
	for i := 1; i < len(features); i++ {
		if features[i] == features[i-1] {
			return "", fmt.Errorf("%w: duplicate feature %q", ErrIllFormed, clip(features[i]))
		}
	}
	forms, err := extendedForms(info.Forms)
	if err != nil {
		return "", err
	}

	var b strings.Builder
	for _, id := range ids {
		b.WriteString(id.Category + "/" + id.Type + "/" + id.Lang + "/" + id.Name + "<")
	}
	for _, f := range features {
		b.WriteString(f + "<")
	}
	for _, f := range forms {
		b.WriteString(f.formType + "<")
		for _, fd := range f.fields {
			b.WriteString(fd.Var + "<")
			for _, v := range fd.Values {
				b.WriteString(v + "<")
			}
		}
	}
	return b.String(), nil
}

func compareIdentity(a, b Identity) int {
	if c := strings.Compare(a.Category, b.Category); c != 0 {
		return c
	}
	if c := strings.Compare(a.Type, b.Type); c != 0 {
		return c
	}
	if c := strings.Compare(a.Lang, b.Lang); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// extForm is an extended information form ready for hashing: its
// FORM_TYPE and its other fields, sorted, each with sorted values.
type extForm struct {
	formType string
	fields   []form.Field
}

// extendedForms applies the form rules of §5.4 and sorts the forms that
// count by FORM_TYPE (§5.1 step 6).
func extendedForms(forms []form.Form) ([]extForm, error) {
	var out []extForm
	seen := make(map[string]bool)
	for _, f := range forms {
		ft, hidden, err := formType(f)
		if err != nil {
			return nil, err
		}
		if ft == "" {
			continue // no FORM_TYPE: ignore the form
		}
		if seen[ft] {
			return nil, fmt.Errorf("%w: two forms with FORM_TYPE %q", ErrIllFormed, clip(ft))
		}
		seen[ft] = true
		if !hidden {
			continue // FORM_TYPE not hidden: ignore the form
		}
		e := extForm{formType: ft}
		for _, fd := range f.Fields {
			if fd.Var == form.FormTypeVar {
				continue
			}
			vals := slices.Clone(fd.Values)
			slices.Sort(vals)
			e.fields = append(e.fields, form.Field{Var: fd.Var, Values: vals})
		}
		// Sort by var; equal vars (which XEP-0004 forbids) by their
		// values, so that the result does not depend on field order.
		slices.SortStableFunc(e.fields, func(a, b form.Field) int {
			if c := strings.Compare(a.Var, b.Var); c != 0 {
				return c
			}
			return slices.Compare(a.Values, b.Values)
		})
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b extForm) int { return strings.Compare(a.formType, b.formType) })
	return out, nil
}

// formType returns the FORM_TYPE of f ("" when it has none) and whether
// that field is hidden. Several FORM_TYPE values that differ are
// ill-formed (§5.4 step 3.5).
func formType(f form.Form) (ft string, hidden bool, err error) {
	found, valued := false, false
	for _, fd := range f.Fields {
		if fd.Var != form.FormTypeVar {
			continue
		}
		if !found {
			found, hidden = true, fd.Type == form.FieldHidden
		}
		for _, v := range fd.Values {
			switch {
			case !valued:
				ft, valued = v, true
			case v != ft:
				return "", false, fmt.Errorf("%w: FORM_TYPE has values %q and %q", ErrIllFormed, clip(ft), clip(v))
			}
		}
	}
	return ft, hidden, nil
}

// clip bounds peer-controlled text quoted in errors.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	for i := max; i > 0; i-- {
		if s[i]&0xC0 != 0x80 {
			return s[:i] + "…"
		}
	}
	return s[:max] + "…"
}
