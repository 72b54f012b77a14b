// Package vcard implements XEP-0054 vcard-temp (version 1.3.0): reading
// and writing the vCard stored on the server for an account.
//
// A practical subset is typed (FN, N, NICKNAME, PHOTO, EMAIL, TEL, URL,
// ORG, NOTE, BDAY); everything else, and every repeat of a typed
// single-valued element, is kept verbatim in [VCard.Other] and written back
// by [VCard.Element]. XEP-0054 has no partial update (§3.2: the whole
// vCard is sent), so a client that rewrites a vCard after reading it must
// not lose what other clients stored there.
package vcard

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/stanza"
)

// NS is the vcard-temp namespace.
const NS = "vcard-temp"

// Limits on what Parse accepts.
const (
	// MaxPhotoSize is the largest decoded PHOTO BINVAL, in bytes.
	MaxPhotoSize = 512 << 10
	// MaxEntries is the largest number of EMAIL, of TEL, and of ORGUNIT
	// elements.
	MaxEntries = 64
)

var (
	// ErrMalformed: the element is not a vcard-temp <vCard/>.
	ErrMalformed = errors.New("vcard: malformed vCard")
	// ErrTooLarge: the photo or a list exceeds a limit.
	ErrTooLarge = errors.New("vcard: vCard too large")
)

// Name is the structured name (N).
type Name struct {
	Family, Given, Middle, Prefix, Suffix string
}

// Photo is the PHOTO: an image inline (Type, Data) or at a URL (ExtVal).
type Photo struct {
	// Type is the MIME type of Data, such as "image/png".
	Type string
	// Data is the decoded BINVAL.
	Data []byte
	// ExtVal is the URI of an external photo.
	ExtVal string
}

// Email is one EMAIL.
type Email struct {
	// UserID is the address.
	UserID string
	// Types are the flag elements in order (HOME, WORK, INTERNET, PREF,
	// X400, or others a peer used).
	Types []string
}

// Tel is one TEL.
type Tel struct {
	// Number is the telephone number ("" when the entry has none).
	Number string
	// Types are the flag elements in order (HOME, WORK, VOICE, FAX, CELL,
	// PREF, …).
	Types []string
}

// Org is the ORG: the organisation and its units.
type Org struct {
	Name  string
	Units []string
}

// VCard is a vcard-temp vCard.
type VCard struct {
	FN       string
	N        Name
	Nickname string
	Photo    *Photo
	Emails   []Email
	Tels     []Tel
	URL      string
	Org      Org
	Note     string
	BDay     string
	// Other are the children this package does not type (ADR, DESC,
	// JABBERID, …), repeats of the single-valued typed elements, and a
	// PHOTO whose BINVAL is not valid base64, in their original order.
	// (Empty single-valued elements such as <MIDDLE/> or <FN/> carry
	// nothing and are not kept; inside typed elements only the parts
	// named by the types here are kept.)
	Other []*xmlstream.Element
}

// Request returns a request for the vCard of to (RFC 6121 bare JID), or
// for our own when to is zero (XEP-0054 §3.1, §3.3).
func Request(to jid.JID) *xmlstream.Element {
	return stanza.NewIQ(stanza.TypeGet, "", to.Bare(), xmlstream.New(NS, "vCard"))
}

// Set returns the request that stores v as our vCard (§3.2). The whole
// vCard is replaced, so v should be one read with Parse and then changed.
func Set(v VCard) *xmlstream.Element {
	return stanza.NewIQ(stanza.TypeSet, "", jid.JID{}, v.Element())
}

// NotFound reports whether err, the error of a vCard request, means that
// there is no vCard: service-unavailable since version 1.3, or
// item-not-found from older servers (§3.3).
func NotFound(err error) bool {
	return errors.Is(err, stanza.ErrServiceUnavailable) || errors.Is(err, stanza.ErrItemNotFound)
}

// Parse reads a <vCard/>, or the IQ result carrying it. An IQ result
// without a vCard, or with an empty one, is the empty vCard (§3.1).
func Parse(el *xmlstream.Element) (VCard, error) {
	if el != nil && el.Name.Local == stanza.IQ {
		if el.Get("type") != stanza.TypeResult {
			return VCard{}, ErrMalformed
		}
		c := el.Child(NS, "vCard")
		if c == nil {
			return VCard{}, nil
		}
		el = c
	}
	if !el.Is(NS, "vCard") {
		return VCard{}, ErrMalformed
	}
	var v VCard
	seen := make(map[string]bool)
	for _, c := range el.Children {
		name := c.Name.Local
		if c.Name.Space != NS || (seen[name] && single(name)) {
			v.Other = append(v.Other, c)
			continue
		}
		// A single-valued element that holds nothing we type is dropped
		// and does not hide a later one: Element could not write it back.
		kept := true
		switch name {
		case "FN":
			v.FN, kept = c.Text, c.Text != ""
		case "NICKNAME":
			v.Nickname, kept = c.Text, c.Text != ""
		case "URL":
			v.URL, kept = c.Text, c.Text != ""
		case "NOTE":
			v.Note, kept = c.Text, c.Text != ""
		case "BDAY":
			v.BDay, kept = c.Text, c.Text != ""
		case "N":
			v.N = Name{Family: c.ChildText(NS, "FAMILY"), Given: c.ChildText(NS, "GIVEN"),
				Middle: c.ChildText(NS, "MIDDLE"), Prefix: c.ChildText(NS, "PREFIX"), Suffix: c.ChildText(NS, "SUFFIX")}
			kept = v.N != Name{}
		case "ORG":
			v.Org.Name = c.ChildText(NS, "ORGNAME")
			for _, u := range c.Children {
				if u.Is(NS, "ORGUNIT") {
					if len(v.Org.Units) == MaxEntries {
						return VCard{}, fmt.Errorf("%w: more than %d ORGUNIT", ErrTooLarge, MaxEntries)
					}
					v.Org.Units = append(v.Org.Units, u.Text)
				}
			}
			kept = v.Org.Name != "" || len(v.Org.Units) > 0
		case "PHOTO":
			p, err := parsePhoto(c)
			if errors.Is(err, ErrTooLarge) {
				return VCard{}, err
			}
			if err != nil {
				v.Other = append(v.Other, c) // keep it verbatim
				continue
			}
			v.Photo = p
		case "EMAIL":
			if len(v.Emails) == MaxEntries {
				return VCard{}, fmt.Errorf("%w: more than %d EMAIL", ErrTooLarge, MaxEntries)
			}
			v.Emails = append(v.Emails, Email{UserID: c.ChildText(NS, "USERID"), Types: flags(c)})
		case "TEL":
			if len(v.Tels) == MaxEntries {
				return VCard{}, fmt.Errorf("%w: more than %d TEL", ErrTooLarge, MaxEntries)
			}
			v.Tels = append(v.Tels, Tel{Number: c.ChildText(NS, "NUMBER"), Types: flags(c)})
		default:
			v.Other = append(v.Other, c)
		}
		seen[name] = kept
	}
	return v, nil
}

// single reports whether the typed element name holds one value; repeats
// of it go to Other.
func single(name string) bool {
	switch name {
	case "FN", "N", "NICKNAME", "URL", "NOTE", "BDAY", "PHOTO", "ORG":
		return true
	}
	return false
}

// flags returns the names of the empty vcard-temp children of an EMAIL or
// TEL: its type flags.
func flags(el *xmlstream.Element) []string {
	var fs []string
	for _, c := range el.Children {
		if c.Name.Space == NS && c.Name.Local != "USERID" && c.Name.Local != "NUMBER" &&
			len(c.Children) == 0 && strings.TrimSpace(c.Text) == "" {
			fs = append(fs, c.Name.Local)
		}
	}
	return fs
}

// parsePhoto reads a PHOTO. A BINVAL larger than MaxPhotoSize is
// ErrTooLarge, checked before decoding; invalid base64 is ErrMalformed.
func parsePhoto(el *xmlstream.Element) (*Photo, error) {
	p := &Photo{Type: strings.TrimSpace(el.ChildText(NS, "TYPE")), ExtVal: strings.TrimSpace(el.ChildText(NS, "EXTVAL"))}
	bin := el.Child(NS, "BINVAL")
	if bin == nil {
		return p, nil
	}
	// BINVAL is often wrapped at 76 columns (RFC 2045 style).
	b64 := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, bin.Text)
	if base64.StdEncoding.DecodedLen(len(b64)) > MaxPhotoSize+2 {
		return nil, fmt.Errorf("%w: photo larger than %d bytes", ErrTooLarge, MaxPhotoSize)
	}
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("%w: photo: %w", ErrMalformed, err)
	}
	if len(data) > MaxPhotoSize {
		return nil, fmt.Errorf("%w: photo larger than %d bytes", ErrTooLarge, MaxPhotoSize)
	}
	if len(data) > 0 {
		p.Data = data
	}
	return p, nil
}

// Element returns the <vCard/> for v: the typed fields that are set, then
// Other unchanged.
func (v VCard) Element() *xmlstream.Element {
	el := xmlstream.New(NS, "vCard")
	text := func(name, s string) {
		if s != "" {
			el.Append(xmlstream.New(NS, name).SetText(s))
		}
	}
	text("FN", v.FN)
	if v.N != (Name{}) {
		n := xmlstream.New(NS, "N")
		for _, p := range [...]struct{ name, v string }{
			{"FAMILY", v.N.Family}, {"GIVEN", v.N.Given}, {"MIDDLE", v.N.Middle}, {"PREFIX", v.N.Prefix}, {"SUFFIX", v.N.Suffix},
		} {
			if p.v != "" {
				n.Append(xmlstream.New(NS, p.name).SetText(p.v))
			}
		}
		el.Append(n)
	}
	text("NICKNAME", v.Nickname)
	if v.Photo != nil {
		ph := xmlstream.New(NS, "PHOTO")
		if v.Photo.Type != "" || v.Photo.Data != nil {
			ph.Append(xmlstream.New(NS, "TYPE").SetText(v.Photo.Type),
				xmlstream.New(NS, "BINVAL").SetText(base64.StdEncoding.EncodeToString(v.Photo.Data)))
		}
		if v.Photo.ExtVal != "" {
			ph.Append(xmlstream.New(NS, "EXTVAL").SetText(v.Photo.ExtVal))
		}
		el.Append(ph)
	}
	text("BDAY", v.BDay)
	for _, t := range v.Tels {
		tel := xmlstream.New(NS, "TEL")
		for _, f := range t.Types {
			tel.Append(xmlstream.New(NS, f))
		}
		// §7: a TEL always has a NUMBER, empty when there is none.
		el.Append(tel.Append(xmlstream.New(NS, "NUMBER").SetText(t.Number)))
	}
	for _, e := range v.Emails {
		em := xmlstream.New(NS, "EMAIL")
		for _, f := range e.Types {
			em.Append(xmlstream.New(NS, f))
		}
		el.Append(em.Append(xmlstream.New(NS, "USERID").SetText(e.UserID)))
	}
	if v.Org.Name != "" || len(v.Org.Units) > 0 {
		org := xmlstream.New(NS, "ORG").Append(xmlstream.New(NS, "ORGNAME").SetText(v.Org.Name))
		for _, u := range v.Org.Units {
			org.Append(xmlstream.New(NS, "ORGUNIT").SetText(u))
		}
		el.Append(org)
	}
	text("NOTE", v.Note)
	text("URL", v.URL)
	for _, o := range v.Other {
		el.Append(o.Copy())
	}
	return el
}
