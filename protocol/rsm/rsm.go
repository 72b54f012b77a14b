// Package rsm implements XEP-0059 Result Set Management (version 1.0): the
// <set xmlns='http://jabber.org/protocol/rsm'/> element with which a
// requester limits and pages through a large result set (archive queries,
// disco#items, search), and with which the responder describes the page it
// returned.
//
// UIDs are opaque strings chosen by the responder (XEP-0059 §2.2): compare
// them, never interpret them.
package rsm

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
)

// NS is the XEP-0059 namespace.
const NS = "http://jabber.org/protocol/rsm"

// MaxUID is the longest UID accepted from a peer, in bytes. Archive ids are
// usually a few dozen bytes; this is far beyond any real one and keeps a
// hostile responder from making us store megabytes per page.
const MaxUID = 4096

// ErrMalformed is returned for a <set/> element that is not valid XEP-0059.
var ErrMalformed = errors.New("rsm: malformed result set element")

// Set is a request for one page of a result set (XEP-0059 §2).
type Set struct {
	// Max is the page size when positive. Zero omits <max/>, leaving the
	// size to the responder.
	Max int
	// CountOnly sends <max>0</max>: no items, only the size of the full
	// result set (XEP-0059 §2.6). It overrides Max.
	CountOnly bool
	// After asks for the page that follows the item with this UID (the
	// <last/> UID of the previous page, XEP-0059 §2.2).
	After string
	// Before asks for the page that precedes the item with this UID (the
	// <first/> UID of the page already received, XEP-0059 §2.3).
	Before string
	// Last asks for the last page of the result set: an empty <before/>
	// (XEP-0059 §2.5). It is ignored when Before is set.
	Last bool
	// Index asks for the page that starts at this position (XEP-0059 §2.5,
	// "out of order"); zero omits <index/>, which means the same thing. UIDs
	// are the better way to page: use Index only when none is known.
	Index int
}

// Result describes the page a responder returned (XEP-0059 §2.2).
type Result struct {
	// First and Last are the UIDs of the first and last items in the page;
	// both are empty for an empty page.
	First, Last string
	// FirstIndex is the position of the first item in the full result set,
	// or -1 when the responder did not say.
	FirstIndex int
	// Count is the (possibly approximate) size of the full result set, or
	// -1 when the responder did not say. XEP-0313 §4.3.2: an archive may
	// omit it, so never depend on it.
	Count int
}

// Element returns s as a <set/> element.
func (s Set) Element() *xmlstream.Element {
	e := xmlstream.New(NS, "set")
	switch {
	case s.CountOnly:
		e.Append(xmlstream.New(NS, "max").SetText("0"))
	case s.Max > 0:
		e.Append(xmlstream.New(NS, "max").SetText(strconv.Itoa(s.Max)))
	}
	if s.After != "" {
		e.Append(xmlstream.New(NS, "after").SetText(s.After))
	}
	switch {
	case s.Before != "":
		e.Append(xmlstream.New(NS, "before").SetText(s.Before))
	case s.Last:
		e.Append(xmlstream.New(NS, "before"))
	}
	if s.Index > 0 {
		e.Append(xmlstream.New(NS, "index").SetText(strconv.Itoa(s.Index)))
	}
	return e
}

// Parse reads a request <set/> element. Numbers must be non-negative
// decimal integers; UIDs are limited to MaxUID bytes.
func Parse(el *xmlstream.Element) (Set, error) {
	if !el.Is(NS, "set") {
		return Set{}, ErrMalformed
	}
	var s Set
	for _, c := range el.Children {
		if c.Name.Space != NS {
			continue
		}
		var err error
		switch c.Name.Local {
		case "max":
			s.Max, err = number(c)
			s.CountOnly = err == nil && s.Max == 0
		case "after":
			s.After, err = uid(c)
		case "before":
			s.Before, err = uid(c)
			s.Last = err == nil && s.Before == ""
		case "index":
			s.Index, err = number(c)
		}
		if err != nil {
			return Set{}, err
		}
	}
	return s, nil
}

// Element returns r as a <set/> element, as a responder would send it.
func (r Result) Element() *xmlstream.Element {
	e := xmlstream.New(NS, "set")
	if r.First != "" {
		first := xmlstream.New(NS, "first").SetText(r.First)
		if r.FirstIndex >= 0 {
			first.Set("index", strconv.Itoa(r.FirstIndex))
		}
		e.Append(first)
	}
	if r.Last != "" {
		e.Append(xmlstream.New(NS, "last").SetText(r.Last))
	}
	if r.Count >= 0 {
		e.Append(xmlstream.New(NS, "count").SetText(strconv.Itoa(r.Count)))
	}
	return e
}

// ParseResult reads the <set/> element of a response. XEP-0059 §2.2 makes
// <first/> and <last/> go together (both present for a non-empty page,
// both absent for an empty one); a page with only one of them is
// malformed, as is a <first/> or <last/> with an empty UID.
func ParseResult(el *xmlstream.Element) (Result, error) {
	if !el.Is(NS, "set") {
		return Result{}, ErrMalformed
	}
	r := Result{FirstIndex: -1, Count: -1}
	var hasFirst, hasLast bool
	for _, c := range el.Children {
		if c.Name.Space != NS {
			continue
		}
		var err error
		switch c.Name.Local {
		case "first":
			hasFirst = true
			if r.First, err = uid(c); err == nil && r.First == "" {
				err = fmt.Errorf("%w: empty <first/>", ErrMalformed)
			}
			if idx, ok := c.Lookup("index"); ok && err == nil {
				r.FirstIndex, err = parseNumber(idx)
			}
		case "last":
			hasLast = true
			if r.Last, err = uid(c); err == nil && r.Last == "" {
				err = fmt.Errorf("%w: empty <last/>", ErrMalformed)
			}
		case "count":
			r.Count, err = number(c)
		}
		if err != nil {
			return Result{}, err
		}
	}
	if hasFirst != hasLast {
		return Result{}, fmt.Errorf("%w: <first/> and <last/> must come together", ErrMalformed)
	}
	return r, nil
}

// number reads the text of c as a non-negative integer.
func number(c *xmlstream.Element) (int, error) {
	return parseNumber(c.Text)
}

// parseNumber parses a non-negative decimal integer, allowing surrounding
// whitespace (XML Schema integers collapse it).
func parseNumber(s string) (int, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.Atoi(s)
	if err != nil || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%w: %q is not a non-negative integer", ErrMalformed, clip(s))
	}
	return n, nil
}

// uid reads the text of c as a UID, within the MaxUID limit.
func uid(c *xmlstream.Element) (string, error) {
	if len(c.Text) > MaxUID {
		return "", fmt.Errorf("%w: UID longer than %d bytes", ErrMalformed, MaxUID)
	}
	return c.Text, nil
}

// clip shortens peer text for an error message.
func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
