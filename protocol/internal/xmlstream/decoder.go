package xmlstream

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DefaultMaxElementSize is the default limit, in bytes, on one top-level
// element of a stream (and on the data between two elements).
const DefaultMaxElementSize = 1 << 20

// DefaultMaxDepth is the default limit on how deeply elements may nest inside
// a top-level element (the top-level element itself is at depth 1).
const DefaultMaxDepth = 128

// nsXMLNS is the namespace of namespace declarations; no prefix may be bound
// to it (Namespaces in XML 1.0 §3).
const nsXMLNS = "http://www.w3.org/2000/xmlns/"

// maxErrText bounds how much peer-controlled text goes into an error.
const maxErrText = 64

// Options configures a [Decoder].
type Options struct {
	// MaxElementSize is the largest top-level element, in bytes, counted
	// from its '<' to the '>' that closes it. The same limit applies to the
	// whitespace between two top-level elements (counting the byte that
	// ends it) and to the XML declaration and stream header together.
	// 0 or less means DefaultMaxElementSize.
	MaxElementSize int64
	// MaxDepth is the deepest allowed nesting within a top-level element
	// (which is at depth 1). 0 or less means DefaultMaxDepth.
	MaxDepth int
}

// A Decoder reads an XMPP stream (RFC 6120 §4): the stream header, then one
// complete top-level element at a time.
//
// It accepts only the XML that RFC 6120 §11 allows and turns everything else
// into an [*Error] with the stream error condition to answer with. Memory is
// bounded in proportion to the size limit: the budget is enforced on the
// bytes handed to encoding/xml's tokenizer, so an endless text node,
// attribute or name fails as soon as it passes the limit. (A text node costs
// a few times its size; an element tree about 25 times its size when it is
// made of tiny elements, for the Element structs.)
//
// After an error, every later call returns the same error. A Decoder is not
// safe for concurrent use.
type Decoder struct {
	in       budgetReader
	xd       *xml.Decoder
	limit    int64
	maxDepth int
	err      error // sticky

	started  bool     // a token was read: the XML declaration is only allowed first
	header   bool     // ReadHeader succeeded
	stream   xml.Name // raw (prefix, local) name of the stream start tag
	streamNS string   // default namespace declared on the stream header

	ns    nsScope
	stack []frame
	text  []byte // character data of open elements, innermost last (see frame.textStart)
}

// frame is an open element.
type frame struct {
	el        *Element
	prefix    string // raw name, to match the end tag
	local     string
	defNS     string // default namespace in scope inside the element
	nsMark    int    // len(ns.b) before the element's declarations
	textStart int    // the element's buffered character data is text[textStart:]
}

// NewDecoder returns a Decoder reading from r.
//
// If r is an [io.ByteReader] (such as a *bufio.Reader) the decoder reads from
// it one byte at a time and never past the end of the element it returns, so
// the caller can keep using r after a stream restart (RFC 6120 §4.3.3).
// Otherwise the decoder reads r in chunks and may hold data read ahead.
func NewDecoder(r io.Reader, opts Options) *Decoder {
	d := newDecoder(opts)
	if br, ok := r.(io.ByteReader); ok {
		d.in.br = br
	} else {
		d.in.src = r
	}
	return d
}

func newDecoder(opts Options) *Decoder {
	d := &Decoder{limit: opts.MaxElementSize, maxDepth: opts.MaxDepth}
	if d.limit <= 0 {
		d.limit = DefaultMaxElementSize
	}
	if d.maxDepth <= 0 {
		d.maxDepth = DefaultMaxDepth
	}
	d.in.tooLarge = &Error{
		Condition: condPolicyViolation,
		Text:      "stanza exceeds the " + strconv.FormatInt(d.limit, 10) + "-byte limit",
	}
	d.in.reset(d.limit)
	d.xd = xml.NewDecoder(&d.in)
	d.xd.Strict = true
	d.xd.CharsetReader = func(label string, _ io.Reader) (io.Reader, error) {
		return nil, &Error{
			Condition: condUnsupportedEncoding,
			Text:      "encoding " + strconv.Quote(clip(label)) + " is not supported (only UTF-8)",
		}
	}
	return d
}

// Header is the stream header a peer sent (RFC 6120 §4.7).
type Header struct {
	To, From, ID, Version, Lang string
	// NS is the default namespace declared on the header, e.g. "jabber:client".
	NS string
}

// ReadHeader reads the optional XML declaration and the <stream:stream>
// start tag and returns its attributes. The start tag must be named "stream"
// in [NSStream], else the error has condition "invalid-namespace". It returns
// io.EOF if the input ends before anything was read.
func (d *Decoder) ReadHeader() (Header, error) {
	if d.err != nil {
		return Header{}, d.err
	}
	if d.header {
		return Header{}, errors.New("xmlstream: ReadHeader called twice")
	}
	h, err := d.readHeader()
	if err != nil {
		d.err = err
		return Header{}, err
	}
	d.header = true
	return h, nil
}

func (d *Decoder) readHeader() (Header, error) {
	d.resetBudget()
	for {
		tok, err := d.xd.RawToken()
		if err != nil {
			if err == io.EOF && d.started {
				return Header{}, unexpectedEOF()
			}
			return Header{}, d.mapErr(err)
		}
		first := !d.started
		d.started = true
		switch t := tok.(type) {
		case xml.StartElement:
			if err := d.start(t); err != nil {
				return Header{}, err
			}
			f := d.stack[0]
			d.stack = d.stack[:0]
			if !f.el.Is(NSStream, "stream") {
				return Header{}, &Error{
					Condition: condInvalidNamespace,
					Text:      "stream header is " + clip(f.el.Name.Space) + " " + clip(f.el.Name.Local) + ", not " + NSStream + " stream",
				}
			}
			// The header's namespace declarations stay in scope for the
			// whole stream: they are never popped.
			d.stream = t.Name
			d.streamNS = f.defNS
			h := Header{NS: f.defNS}
			for _, a := range f.el.Attr {
				switch {
				case a.Name.Space == NSXML && a.Name.Local == "lang":
					h.Lang = a.Value
				case a.Name.Space != "":
				case a.Name.Local == "to":
					h.To = a.Value
				case a.Name.Local == "from":
					h.From = a.Value
				case a.Name.Local == "id":
					h.ID = a.Value
				case a.Name.Local == "version":
					h.Version = a.Value
				}
			}
			return h, nil
		case xml.CharData:
			if !isSpace(t) {
				return Header{}, notWellFormed("text before the stream header")
			}
		case xml.ProcInst:
			if first && t.Target == "xml" {
				continue
			}
			return Header{}, restricted(tok)
		case xml.EndElement:
			return Header{}, notWellFormed("end tag </" + clip(t.Name.Local) + "> before the stream header")
		default:
			return Header{}, restricted(tok)
		}
	}
}

// Next returns the next complete top-level element of the stream, with every
// name's namespace resolved; elements without a namespace declaration inherit
// the stream's default namespace. Whitespace between elements is skipped.
//
// Next returns [ErrStreamEnd] when the peer closes the stream, io.EOF when the
// input ends cleanly between elements, an error wrapping
// io.ErrUnexpectedEOF when it ends inside an element, an [*Error] for XML the
// peer must not send, and other read errors wrapped.
//
// Next may be used without ReadHeader to read a sequence of top-level
// elements with no enclosing stream.
func (d *Decoder) Next() (*Element, error) {
	if d.err != nil {
		return nil, d.err
	}
	el, err := d.next()
	if err != nil {
		d.err = err
		return nil, err
	}
	return el, nil
}

func (d *Decoder) next() (*Element, error) {
	d.resetBudget()
	for {
		tok, err := d.xd.RawToken()
		if err != nil {
			return nil, d.mapErr(err)
		}
		first := !d.started
		d.started = true
		switch t := tok.(type) {
		case xml.StartElement:
			if err := d.start(t); err != nil {
				return nil, err
			}
		case xml.EndElement:
			el, err := d.end(t)
			if el != nil || err != nil {
				return el, err
			}
		case xml.CharData:
			if len(d.stack) == 0 {
				if !isSpace(t) {
					return nil, notWellFormed("text outside of an element")
				}
				// Whitespace keepalive (RFC 6120 §4.6): the next
				// element gets a fresh budget.
				d.resetBudget()
				continue
			}
			d.addText(t)
		case xml.ProcInst:
			if first && t.Target == "xml" {
				continue
			}
			return nil, restricted(tok)
		default:
			return nil, restricted(tok)
		}
	}
}

// Parse parses b as exactly one element, with the restrictions and the
// default size limit of a [Decoder]. A leading XML declaration and
// surrounding whitespace are allowed; anything else after the element is an
// error.
func Parse(b []byte) (*Element, error) {
	d := newDecoder(Options{})
	d.in.buf, d.in.w = b, len(b)
	el, err := d.next()
	if err == io.EOF {
		return nil, notWellFormed("no element")
	}
	if err != nil {
		return nil, err
	}
	d.resetBudget()
	for {
		tok, err := d.xd.RawToken()
		if err == io.EOF {
			return el, nil
		}
		if err != nil {
			return nil, d.mapErr(err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			if !isSpace(t) {
				return nil, notWellFormed("text after the element")
			}
		case xml.StartElement, xml.EndElement:
			return nil, notWellFormed("markup after the element")
		default:
			return nil, restricted(tok)
		}
	}
}

// resetBudget gives the reader a fresh budget for the data that follows the
// last token. encoding/xml may hold one byte it has read but not consumed
// (the '<' that ended a text node); that byte counts against the new budget.
func (d *Decoder) resetBudget() {
	held := d.in.total() - d.xd.InputOffset()
	d.in.reset(d.limit - held)
}

// start opens an element: it processes the namespace declarations, resolves
// the names and attaches the element to its parent.
func (d *Decoder) start(t xml.StartElement) error {
	if len(d.stack) >= d.maxDepth {
		return &Error{Condition: condPolicyViolation, Text: "elements nested deeper than " + strconv.Itoa(d.maxDepth) + " levels"}
	}
	defNS := d.streamNS
	if len(d.stack) > 0 {
		defNS = d.stack[len(d.stack)-1].defNS
	}
	mark := len(d.ns.b)
	attrs := t.Attr
	if err := checkDuplicates(attrs); err != nil {
		return err
	}
	decls := 0
	for _, a := range attrs {
		switch {
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			decls++
			if reservedNS(a.Value) {
				return notWellFormed("reserved namespace " + clip(a.Value) + " declared as the default namespace")
			}
			defNS = a.Value
		case a.Name.Space == "xmlns":
			decls++
			switch {
			case a.Name.Local == "xmlns":
				return notWellFormed("the xmlns prefix must not be declared")
			case a.Name.Local == "xml":
				if a.Value != NSXML {
					return notWellFormed("the xml prefix must not be bound to another namespace")
				}
			case a.Value == "":
				return notWellFormed("prefix " + clip(a.Name.Local) + " declared with an empty namespace")
			case reservedNS(a.Value):
				return notWellFormed("reserved namespace " + clip(a.Value) + " bound to prefix " + clip(a.Name.Local))
			case strings.IndexByte(a.Name.Local, ':') >= 0:
				return notWellFormed("invalid prefix " + clip(a.Name.Local))
			default:
				d.ns.push(a.Name.Local, a.Value)
			}
		}
	}

	el := &Element{}
	var err error
	if el.Name, err = d.resolve(t.Name, defNS); err != nil {
		return err
	}
	if len(attrs) > decls {
		// encoding/xml gives every start tag a fresh slice: filter it
		// in place.
		out := attrs[:0]
		prefixed := 0
		for _, a := range attrs {
			if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
				continue
			}
			if a.Name.Space != "" {
				prefixed++
			}
			if a.Name, err = d.resolve(a.Name, ""); err != nil {
				return err
			}
			out = append(out, a)
		}
		if prefixed > 1 {
			// Two prefixes may be bound to one namespace
			// (Namespaces in XML 1.0 §6.3).
			if err := checkDuplicates(out); err != nil {
				return err
			}
		}
		el.Attr = out
	}

	if len(d.stack) > 0 {
		p := d.stack[len(d.stack)-1].el
		p.Children = append(p.Children, el)
	}
	d.stack = append(d.stack, frame{
		el:        el,
		prefix:    t.Name.Space,
		local:     t.Name.Local,
		defNS:     defNS,
		nsMark:    mark,
		textStart: len(d.text),
	})
	return nil
}

// reservedNS reports whether uri may not be declared with xmlns or xmlns:p.
// Besides the two namespaces Namespaces in XML 1.0 §3 reserves, the
// (relative) namespace names "xml" and "xmlns" are refused: encoding/xml
// uses those strings for the prefixes, so an attribute in namespace "xmlns"
// would pass for a namespace declaration in TokenReader and the encoder
// (xml.Marshal writes such declarations for xmlns:* attribute fields).
func reservedNS(uri string) bool {
	return uri == NSXML || uri == nsXMLNS || uri == "xml" || uri == "xmlns"
}

// resolve maps a raw (prefix, local) name to (namespace, local). Unprefixed
// element names take defNS; unprefixed attribute names are called with
// defNS "" (attributes have no default namespace).
func (d *Decoder) resolve(n xml.Name, defNS string) (xml.Name, error) {
	if strings.IndexByte(n.Local, ':') >= 0 {
		return n, notWellFormed("invalid name " + clip(n.Local))
	}
	if n.Space != "" && !isNameStart(n.Local) {
		// encoding/xml checked "prefix:local" as one name; the local
		// part must be a name by itself (an NCName).
		return n, notWellFormed("invalid local name " + clip(n.Local))
	}
	switch n.Space {
	case "":
		n.Space = defNS
	case "xml":
		n.Space = NSXML
	case "xmlns":
		return n, notWellFormed("element name with the xmlns prefix")
	default:
		uri, ok := d.ns.lookup(n.Space)
		if !ok {
			return n, notWellFormed("unbound namespace prefix " + clip(n.Space))
		}
		n.Space = uri
	}
	return n, nil
}

// isNameStart reports whether s, a part of a name encoding/xml accepted,
// starts with a character that may start a name.
func isNameStart(s string) bool {
	if s == "" {
		return false
	}
	if c := s[0]; c < utf8.RuneSelf {
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
	}
	// Rare: ask encoding/xml, whose name rules the unprefixed name the
	// encoder writes must pass. s is a name without ':', '>' or spaces.
	_, err := xml.NewDecoder(strings.NewReader("<" + s + "/>")).RawToken()
	return err == nil
}

// end closes the innermost element and returns it when it is a top-level
// element. At depth 0 the only end tag allowed is the stream's.
func (d *Decoder) end(t xml.EndElement) (*Element, error) {
	top := len(d.stack) - 1
	if top < 0 {
		if d.header && t.Name == d.stream {
			return nil, ErrStreamEnd
		}
		return nil, notWellFormed("unexpected end tag </" + clip(rawName(t.Name)) + ">")
	}
	f := &d.stack[top]
	if t.Name.Space != f.prefix || t.Name.Local != f.local {
		return nil, notWellFormed("end tag </" + clip(rawName(t.Name)) + "> does not match <" +
			clip(rawName(xml.Name{Space: f.prefix, Local: f.local})) + ">")
	}
	if len(d.text) > f.textStart {
		f.el.Text = string(d.text[f.textStart:])
		d.text = d.text[:f.textStart]
	}
	d.ns.pop(f.nsMark)
	el := f.el
	*f = frame{}
	d.stack = d.stack[:top]
	if top > 0 {
		return nil, nil
	}
	if cap(d.text) > 64<<10 {
		d.text = nil // don't keep a large buffer after a large stanza
	}
	return el, nil
}

// addText adds character data to the innermost element. The usual single
// text node becomes the Text string directly; further nodes are
// concatenated in d.text, which keeps the cost linear in the input.
func (d *Decoder) addText(t []byte) {
	f := &d.stack[len(d.stack)-1]
	if len(d.text) == f.textStart {
		if f.el.Text == "" {
			f.el.Text = string(t)
			return
		}
		d.text = append(d.text, f.el.Text...)
		f.el.Text = ""
	}
	d.text = append(d.text, t...)
}

// mapErr turns an error from encoding/xml into the decoder's error.
func (d *Decoder) mapErr(err error) error {
	var e *Error
	var se *xml.SyntaxError
	switch {
	case errors.As(err, &e):
		return e
	case err == io.EOF:
		if len(d.stack) > 0 {
			return unexpectedEOF()
		}
		return io.EOF
	case d.in.srcErr != nil && err == d.in.srcErr:
		return fmt.Errorf("xmlstream: read: %w", err)
	case errors.As(err, &se):
		if d.in.eof && strings.HasPrefix(se.Msg, "unexpected EOF") {
			return unexpectedEOF()
		}
		return notWellFormed(clipText(se.Msg))
	default:
		return notWellFormed(clipText(err.Error()))
	}
}

func unexpectedEOF() error {
	return fmt.Errorf("xmlstream: input ends inside an element: %w", io.ErrUnexpectedEOF)
}

func notWellFormed(text string) *Error {
	return &Error{Condition: condNotWellFormed, Text: text}
}

// restricted returns the restricted-xml error for a comment, processing
// instruction or directive (RFC 6120 §11.1).
func restricted(tok xml.Token) *Error {
	var what string
	switch t := tok.(type) {
	case xml.Comment:
		what = "comment"
	case xml.ProcInst:
		what = "processing instruction <?" + clip(t.Target) + "?>"
	case xml.Directive:
		kw := t
		if i := bytes.IndexAny(kw, " \t\r\n[>"); i >= 0 {
			kw = kw[:i]
		}
		switch string(kw) {
		case "DOCTYPE":
			what = "document type declaration (DTD)"
		case "ENTITY":
			what = "entity declaration"
		default:
			what = "declaration <!" + clip(string(kw)) + ">"
		}
	default:
		what = fmt.Sprintf("token %T", tok)
	}
	return &Error{Condition: condRestrictedXML, Text: what + " not allowed in XMPP (RFC 6120 §11.1)"}
}

// checkDuplicates reports an error if two attributes have the same name.
func checkDuplicates(attrs []xml.Attr) error {
	if len(attrs) < 2 {
		return nil
	}
	if len(attrs) <= 16 {
		for i := 1; i < len(attrs); i++ {
			for j := 0; j < i; j++ {
				if attrs[i].Name == attrs[j].Name {
					return duplicate(attrs[i].Name)
				}
			}
		}
		return nil
	}
	seen := make(map[xml.Name]struct{}, len(attrs))
	for _, a := range attrs {
		if _, ok := seen[a.Name]; ok {
			return duplicate(a.Name)
		}
		seen[a.Name] = struct{}{}
	}
	return nil
}

func duplicate(n xml.Name) error {
	return notWellFormed("duplicate attribute " + clip(n.Space) + " " + clip(n.Local))
}

func rawName(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

func isSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// clip shortens peer-controlled text for an error message.
func clip(s string) string {
	if len(s) <= maxErrText {
		return s
	}
	i := maxErrText
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// clipText shortens an error message from encoding/xml, which may quote
// peer data.
func clipText(s string) string {
	if len(s) <= 4*maxErrText {
		return s
	}
	i := 4 * maxErrText
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// binding is one namespace prefix declaration in scope.
type binding struct {
	prefix, uri string
	prev        int // index of the binding it shadows, or -1
}

// nsScope is the stack of prefix declarations in scope, with an index from
// prefix to its innermost binding so a lookup costs the same however many
// declarations a peer sends.
type nsScope struct {
	b   []binding
	idx map[string]int
}

func (s *nsScope) push(prefix, uri string) {
	if s.idx == nil {
		s.idx = make(map[string]int)
	}
	prev, ok := s.idx[prefix]
	if !ok {
		prev = -1
	}
	s.idx[prefix] = len(s.b)
	s.b = append(s.b, binding{prefix: prefix, uri: uri, prev: prev})
}

func (s *nsScope) lookup(prefix string) (string, bool) {
	i, ok := s.idx[prefix]
	if !ok {
		return "", false
	}
	return s.b[i].uri, true
}

// pop removes the bindings from index mark on.
func (s *nsScope) pop(mark int) {
	for i := len(s.b) - 1; i >= mark; i-- {
		b := s.b[i]
		if b.prev < 0 {
			delete(s.idx, b.prefix)
		} else {
			s.idx[b.prefix] = b.prev
		}
	}
	clear(s.b[mark:])
	s.b = s.b[:mark]
}
