package xmlstream

import (
	"encoding/xml"
	"io"
)

// TokenReader returns the tokens of e (start element, character data, child
// elements, end element) so that it can be decoded into a typed value
// without serialising it:
//
//	err := xml.NewTokenDecoder(el.TokenReader()).Decode(&v)
//
// Names carry their resolved namespaces, as encoding/xml's Token does, and
// the character data of an element comes before its children. The tokens
// must not be modified; e must not change while they are read. After the
// last end element the reader returns io.EOF.
func (e *Element) TokenReader() xml.TokenReader {
	r := &tokenReader{}
	if e != nil {
		r.stack = append(r.stack, tokenFrame{el: e, child: -2})
	}
	return r
}

type tokenReader struct {
	stack []tokenFrame
}

// tokenFrame is an element being read. child is -2 before its start element,
// -1 before its character data, then the index of the next child.
type tokenFrame struct {
	el    *Element
	child int
}

// Token implements xml.TokenReader.
func (r *tokenReader) Token() (xml.Token, error) {
	for len(r.stack) > 0 {
		f := &r.stack[len(r.stack)-1]
		switch {
		case f.child == -2:
			f.child = -1
			// Copy the attributes: xml.Decoder translates names in
			// place.
			var attr []xml.Attr
			if len(f.el.Attr) > 0 {
				attr = append(make([]xml.Attr, 0, len(f.el.Attr)), f.el.Attr...)
			}
			return xml.StartElement{Name: f.el.Name, Attr: attr}, nil
		case f.child == -1:
			f.child = 0
			if f.el.Text != "" {
				return xml.CharData(f.el.Text), nil
			}
		case f.child < len(f.el.Children):
			c := f.el.Children[f.child]
			f.child++
			if c != nil {
				r.stack = append(r.stack, tokenFrame{el: c, child: -2})
			}
		default:
			name := f.el.Name
			r.stack = r.stack[:len(r.stack)-1]
			return xml.EndElement{Name: name}, nil
		}
	}
	return nil, io.EOF
}
