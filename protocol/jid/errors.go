package jid

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Sentinel errors. Every error returned by this package wraps exactly one
// "what" sentinel and, for problems with one part, the ErrInvalid… sentinel
// of that part too, so that errors.Is(err, ErrInvalidLocal) holds for every
// localpart problem (empty, too long or bad characters) while
// errors.Is(err, ErrTooLong) singles out length problems in any part.
var (
	// ErrEmpty means the whole address is empty.
	ErrEmpty = errors.New("jid: empty address")
	// ErrEmptyLocal means an '@' is present with nothing before it.
	ErrEmptyLocal = errors.New("jid: empty localpart")
	// ErrEmptyDomain means the domainpart is missing.
	ErrEmptyDomain = errors.New("jid: empty domainpart")
	// ErrEmptyResource means a '/' is present with nothing after it.
	ErrEmptyResource = errors.New("jid: empty resourcepart")
	// ErrTooLong means a part (or a domain label) exceeds its length limit.
	ErrTooLong = errors.New("jid: part too long")
	// ErrInvalidLocal means the localpart is not valid.
	ErrInvalidLocal = errors.New("jid: invalid localpart")
	// ErrInvalidDomain means the domainpart is not valid.
	ErrInvalidDomain = errors.New("jid: invalid domainpart")
	// ErrInvalidResource means the resourcepart is not valid.
	ErrInvalidResource = errors.New("jid: invalid resourcepart")
)

// part names one of the three parts of a JID.
type part uint8

const (
	partNone part = iota
	partLocal
	partDomain
	partResource
)

func (p part) String() string {
	switch p {
	case partLocal:
		return "localpart"
	case partDomain:
		return "domainpart"
	case partResource:
		return "resourcepart"
	}
	return "address"
}

// invalid is the ErrInvalid… sentinel of the part.
func (p part) invalid() error {
	switch p {
	case partLocal:
		return ErrInvalidLocal
	case partDomain:
		return ErrInvalidDomain
	case partResource:
		return ErrInvalidResource
	}
	return nil
}

const emptyDomainDetail = "the server name is missing (expected something like example.com)"

// input is the address being parsed or built, kept only to quote it in error
// messages. It is passed by value so that the success path does not allocate.
type input struct {
	raw   string // the string given to Parse
	parts JID    // the raw parts given to New or WithResource, when raw is ""
}

func (in input) String() string {
	if in.raw != "" {
		return in.raw
	}
	return in.parts.String()
}

// partError returns an error about one part of in. kind is the specific
// sentinel (it may be the part's ErrInvalid… sentinel itself); detail says
// what is wrong in words a user typing an address understands.
func (in input) partError(p part, kind error, detail string) error {
	return &parseError{input: in.String(), part: p, kind: kind, detail: detail}
}

// parseError is the error type returned by Parse, New and WithResource.
type parseError struct {
	input  string
	part   part
	kind   error
	detail string
}

// maxQuoted bounds how much of the input an error message quotes, so that a
// peer sending a huge address cannot make our logs or dialogs huge.
const maxQuoted = 80

func (e *parseError) Error() string {
	q := e.input
	if len(q) > maxQuoted {
		n := maxQuoted
		for n > 0 && !utf8.RuneStart(q[n]) {
			n--
		}
		q = q[:n] + "…"
	}
	if e.part == partNone {
		return fmt.Sprintf("jid %s: address is empty", strconv.Quote(q))
	}
	return fmt.Sprintf("jid %s: invalid %s: %s", strconv.Quote(q), e.part, e.detail)
}

func (e *parseError) Unwrap() []error {
	inv := e.part.invalid()
	if inv == nil || inv == e.kind {
		return []error{e.kind}
	}
	return []error{e.kind, inv}
}

// describeRune quotes r for an error message: the character itself (escaped
// if it is not printable) and its code point.
func describeRune(r rune) string {
	return fmt.Sprintf("character %s (%U)", strconv.QuoteRune(r), r)
}

// tooLong is the detail for a part of n bytes.
func tooLong(n int) string {
	return fmt.Sprintf("it is too long (%d bytes, at most %d allowed)", n, maxPartLen)
}
