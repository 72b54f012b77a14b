// Package version implements XEP-0092 Software Version: asking an entity
// which software it runs, and answering such questions about ourselves.
package version

import (
	"context"
	"errors"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/stanza"
)

// NS is the XEP-0092 namespace.
const NS = "jabber:iq:version"

// Info is the software an entity reports.
type Info struct {
	Name, Version, OS string
}

// ErrMalformed: the answer did not contain a software name.
var ErrMalformed = errors.New("version: malformed answer")

// IQSender sends an IQ request and returns its reply.
type IQSender interface {
	SendIQ(ctx context.Context, iq *xmlstream.Element) (*xmlstream.Element, error)
}

// Query asks to (a server or a full JID) for its software version.
func Query(ctx context.Context, s IQSender, to jid.JID) (Info, error) {
	res, err := s.SendIQ(ctx, stanza.NewIQ("get", "", to, xmlstream.New(NS, "query")))
	if err != nil {
		return Info{}, err
	}
	return Parse(res)
}

// Parse reads the answer to a software version request.
func Parse(iq *xmlstream.Element) (Info, error) {
	q := iq.Child(NS, "query")
	if q == nil || q.ChildText(NS, "name") == "" {
		return Info{}, ErrMalformed
	}
	return Info{Name: q.ChildText(NS, "name"), Version: q.ChildText(NS, "version"), OS: q.ChildText(NS, "os")}, nil
}

// Answer returns the query payload that describes info. XEP-0092 §5 leaves
// the operating system optional; leave OS empty to keep it private.
func Answer(info Info) *xmlstream.Element {
	q := xmlstream.New(NS, "query").Append(
		xmlstream.New(NS, "name").SetText(info.Name),
		xmlstream.New(NS, "version").SetText(info.Version))
	if info.OS != "" {
		q.Append(xmlstream.New(NS, "os").SetText(info.OS))
	}
	return q
}
