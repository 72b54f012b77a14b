package xmlstream

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// NSStream is the namespace of the stream element and of stream-level
// elements such as <stream:features> and <stream:error> (RFC 6120 §4.8.1).
const NSStream = "http://etherx.jabber.org/streams"

// StreamEnd is the closing tag of a stream (RFC 6120 §4.4), matching the
// header written by [WriteHeader].
const StreamEnd = "</stream:stream>"

// WriteHeader writes an XML declaration and the <stream:stream> start tag of
// h (RFC 6120 §4.7). Empty fields are omitted; NS becomes the default
// namespace declaration.
func WriteHeader(w io.Writer, h Header) error {
	b := make([]byte, 0, 256)
	b = append(b, "<?xml version='1.0'?><stream:stream"...)
	for _, a := range [...]struct{ prefix, local, value string }{
		{"", "xmlns", h.NS},
		{"xmlns", "stream", NSStream},
		{"", "to", h.To},
		{"", "from", h.From},
		{"", "id", h.ID},
		{"", "version", h.Version},
		{"xml", "lang", h.Lang},
	} {
		if a.value != "" {
			b = appendAttr(b, a.prefix, a.local, a.value)
		}
	}
	b = append(b, '>')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("xmlstream: write header: %w", err)
	}
	return nil
}

// Encode writes e to w as XML. defaultNS is the default namespace in scope
// where e is written (the stream's, e.g. "jabber:client", or "" for a
// standalone document); see [Append].
func Encode(w io.Writer, e *Element, defaultNS string) error {
	if e == nil {
		return nil
	}
	if _, err := w.Write(Append(make([]byte, 0, 512), e, defaultNS)); err != nil {
		return fmt.Errorf("xmlstream: write: %w", err)
	}
	return nil
}

// Append appends e serialised as XML to dst and returns the extended slice.
// A nil e appends nothing.
//
// Elements are written unprefixed, with xmlns='…' on e when its namespace is
// not defaultNS and on every descendant whose namespace differs from the
// default namespace in scope, except that elements in [NSStream] use the
// "stream" prefix (RFC 6120 §4.8.5) and elements in [NSXML] the "xml" prefix.
// Attributes in NSXML are written as xml:…; attributes in other namespaces
// get generated prefixes declared on their element. Namespace declarations in
// e.Attr are ignored.
//
// Text and attribute values are escaped. Characters that XML 1.0 does not
// allow (most C0 controls, U+FFFE, U+FFFF, invalid UTF-8) are written as
// U+FFFD. Names are written as they are: they must be valid XML names.
func Append(dst []byte, e *Element, defaultNS string) []byte {
	if e == nil {
		return dst
	}
	return appendElement(dst, e, defaultNS, false)
}

// appendElement writes e where scopeNS is the default namespace in scope and
// streamDeclared says whether the "stream" prefix is bound to NSStream.
func appendElement(dst []byte, e *Element, scopeNS string, streamDeclared bool) []byte {
	dst = append(dst, '<')
	dst = appendName(dst, e.Name)
	switch e.Name.Space {
	case NSXML:
	case NSStream:
		if !streamDeclared {
			dst = appendAttr(dst, "xmlns", "stream", NSStream)
			streamDeclared = true
		}
	default:
		if e.Name.Space != scopeNS {
			dst = append(dst, " xmlns='"...)
			dst = appendEscaped(dst, e.Name.Space, true)
			dst = append(dst, '\'')
			scopeNS = e.Name.Space
		}
	}

	// Prefixes generated for namespaced attributes of this element.
	var prefixes [4]string
	gen := prefixes[:0]
	for _, a := range e.Attr {
		switch a.Name.Space {
		case "":
			if a.Name.Local == "xmlns" {
				continue
			}
			dst = appendAttr(dst, "", a.Name.Local, a.Value)
		case NSXML, "xml":
			dst = appendAttr(dst, "xml", a.Name.Local, a.Value)
		case "xmlns", nsXMLNS:
			continue
		default:
			n := -1
			for i, uri := range gen {
				if uri == a.Name.Space {
					n = i
					break
				}
			}
			if n < 0 {
				gen = append(gen, a.Name.Space)
				n = len(gen) - 1
				dst = append(dst, " xmlns:ns"...)
				dst = strconv.AppendInt(dst, int64(n+1), 10)
				dst = append(dst, "='"...)
				dst = appendEscaped(dst, a.Name.Space, true)
				dst = append(dst, '\'')
			}
			dst = append(dst, " ns"...)
			dst = strconv.AppendInt(dst, int64(n+1), 10)
			dst = append(dst, ':')
			dst = append(dst, a.Name.Local...)
			dst = append(dst, "='"...)
			dst = appendEscaped(dst, a.Value, true)
			dst = append(dst, '\'')
		}
	}

	if e.Text == "" && len(e.Children) == 0 {
		return append(dst, "/>"...)
	}
	dst = append(dst, '>')
	dst = appendEscaped(dst, e.Text, false)
	for _, c := range e.Children {
		if c != nil {
			dst = appendElement(dst, c, scopeNS, streamDeclared)
		}
	}
	dst = append(dst, "</"...)
	dst = appendName(dst, e.Name)
	return append(dst, '>')
}

func appendName(dst []byte, n xml.Name) []byte {
	switch n.Space {
	case NSXML:
		dst = append(dst, "xml:"...)
	case NSStream:
		dst = append(dst, "stream:"...)
	}
	return append(dst, n.Local...)
}

// appendAttr appends ` prefix:local='value'` (without "prefix:" when prefix
// is empty).
func appendAttr(dst []byte, prefix, local, value string) []byte {
	dst = append(dst, ' ')
	if prefix != "" {
		dst = append(dst, prefix...)
		dst = append(dst, ':')
	}
	dst = append(dst, local...)
	dst = append(dst, "='"...)
	dst = appendEscaped(dst, value, true)
	return append(dst, '\'')
}

// appendEscaped appends s escaped as character data, or as an attribute
// value delimited by single quotes when attr is set. Characters XML 1.0
// forbids become U+FFFD.
func appendEscaped(dst []byte, s string, attr bool) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			var esc string
			switch c {
			case '&':
				esc = "&amp;"
			case '<':
				esc = "&lt;"
			case '>':
				esc = "&gt;"
			case '\'':
				if attr {
					esc = "&apos;"
				}
			case '"':
				if attr {
					esc = "&quot;"
				}
			case '\t':
				if attr {
					esc = "&#x9;"
				}
			case '\n':
				if attr {
					esc = "&#xA;"
				}
			case '\r':
				// Escaped in text too: a parser turns a literal
				// CR into LF (XML 1.0 §2.11).
				esc = "&#xD;"
			default:
				if c < 0x20 {
					esc = "\uFFFD"
				}
			}
			if esc != "" {
				dst = append(dst, s[last:i]...)
				dst = append(dst, esc...)
				last = i + 1
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == 0xFFFE || r == 0xFFFF {
			dst = append(dst, s[last:i]...)
			dst = append(dst, "\uFFFD"...)
			last = i + size
		}
		i += size
	}
	return append(dst, s[last:]...)
}
