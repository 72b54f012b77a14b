// Package xmlstream reads and writes the XML of an XMPP stream (RFC 6120 §4
// and §11): one top-level element at a time, size-limited, restricted to the
// XML subset XMPP allows (no DTDs, entity declarations, processing
// instructions or comments), and never panicking on peer input.
//
// Elements are small trees of [Element]. Namespaces are resolved: every
// element carries the namespace it is in, whatever prefix or default
// declaration the peer used, and the encoder writes the declarations back.
package xmlstream

import (
	"encoding/xml"
	"strings"
)

// NSXML is the namespace bound to the reserved "xml" prefix (xml:lang).
const NSXML = "http://www.w3.org/XML/1998/namespace"

// Element is one XML element with its attributes, child elements and
// character data. XMPP does not use mixed content, so the character data of
// an element is kept as one string (the concatenation of all its text nodes).
//
// Name.Space is the resolved namespace. Attr never contains namespace
// declarations (xmlns, xmlns:*); an attribute in a namespace has that
// namespace in Name.Space (xml:lang has [NSXML]).
type Element struct {
	Name     xml.Name
	Attr     []xml.Attr
	Children []*Element
	Text     string
}

// New returns an element named local in namespace space, with the given
// attributes as name/value pairs (an odd trailing name is ignored).
func New(space, local string, attrs ...string) *Element {
	e := &Element{Name: xml.Name{Space: space, Local: local}}
	for i := 0; i+1 < len(attrs); i += 2 {
		e.Attr = append(e.Attr, xml.Attr{Name: xml.Name{Local: attrs[i]}, Value: attrs[i+1]})
	}
	return e
}

// Is reports whether e is named local in namespace space.
func (e *Element) Is(space, local string) bool {
	return e != nil && e.Name.Local == local && e.Name.Space == space
}

// Get returns the value of the attribute named local with no namespace, or "".
func (e *Element) Get(local string) string {
	v, _ := e.Lookup(local)
	return v
}

// Lookup returns the value of the attribute named local with no namespace and
// whether it was present.
func (e *Element) Lookup(local string) (string, bool) {
	if e == nil {
		return "", false
	}
	for _, a := range e.Attr {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value, true
		}
	}
	return "", false
}

// Lang returns the element's xml:lang attribute, or "".
func (e *Element) Lang() string {
	if e == nil {
		return ""
	}
	for _, a := range e.Attr {
		if a.Name.Local == "lang" && (a.Name.Space == NSXML || a.Name.Space == "xml") {
			return a.Value
		}
	}
	return ""
}

// Set sets (or replaces) the attribute named local with no namespace and
// returns e. An empty value removes the attribute.
func (e *Element) Set(local, value string) *Element {
	for i, a := range e.Attr {
		if a.Name.Local == local && a.Name.Space == "" {
			if value == "" {
				e.Attr = append(e.Attr[:i], e.Attr[i+1:]...)
			} else {
				e.Attr[i].Value = value
			}
			return e
		}
	}
	if value != "" {
		e.Attr = append(e.Attr, xml.Attr{Name: xml.Name{Local: local}, Value: value})
	}
	return e
}

// Child returns the first child named local in namespace space, or nil.
func (e *Element) Child(space, local string) *Element {
	if e == nil {
		return nil
	}
	for _, c := range e.Children {
		if c.Name.Local == local && c.Name.Space == space {
			return c
		}
	}
	return nil
}

// ChildNS returns the first child in namespace space, whatever its name, or nil.
func (e *Element) ChildNS(space string) *Element {
	if e == nil {
		return nil
	}
	for _, c := range e.Children {
		if c.Name.Space == space {
			return c
		}
	}
	return nil
}

// ChildText returns the text of the first child named local in namespace
// space, or "" when there is none.
func (e *Element) ChildText(space, local string) string {
	if c := e.Child(space, local); c != nil {
		return c.Text
	}
	return ""
}

// Append adds children to e and returns e.
func (e *Element) Append(children ...*Element) *Element {
	e.Children = append(e.Children, children...)
	return e
}

// SetText sets the character data of e and returns e.
func (e *Element) SetText(text string) *Element {
	e.Text = text
	return e
}

// Copy returns a deep copy of e.
func (e *Element) Copy() *Element {
	if e == nil {
		return nil
	}
	c := &Element{Name: e.Name, Text: e.Text}
	if e.Attr != nil {
		c.Attr = append([]xml.Attr(nil), e.Attr...)
	}
	if e.Children != nil {
		c.Children = make([]*Element, len(e.Children))
		for i, ch := range e.Children {
			c.Children[i] = ch.Copy()
		}
	}
	return c
}

// String returns the element serialised with its namespace declared, for
// logs of non-sensitive elements and for tests.
func (e *Element) String() string {
	var b strings.Builder
	_ = Encode(&b, e, "")
	return b.String()
}
