package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tern-im/tern/protocol/dial"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/stream"
)

// IQFunc performs one IQ request on a stream and returns the reply; an
// error reply is returned as a *stanza.Error.
type IQFunc func(ctx context.Context, iq *xmlstream.Element) (*xmlstream.Element, error)

// PreAuth connects exactly as Dial does — the same endpoints, TLS always,
// certificates verified — but does not authenticate: once the stream is
// protected it calls f with the stream's features and an IQFunc for
// requests to the server (XEP-0077 in-band registration happens here, RFC
// 6120 §6.4.8 allows it before SASL). The stream is closed when f returns;
// f's error is returned. cfg.Password is not used; cfg.JID gives the domain.
func PreAuth(ctx context.Context, cfg Config, f func(ctx context.Context, features stream.Features, iq IQFunc) error) error {
	if cfg.JID.IsZero() {
		return errors.New("session: PreAuth needs the server's domain")
	}
	s := &Session{cfg: cfg.withDefaults(), waiters: make(map[string]*waiter)}
	eps, err := s.endpoints(ctx)
	if err != nil {
		return err
	}
	var lastErr error
	for _, ep := range eps {
		n, features, err := s.preAuthEndpoint(ctx, ep)
		if err != nil {
			if fatal(err) || ctx.Err() != nil {
				return err
			}
			lastErr = err
			continue
		}
		defer n.nc.Close()
		stop := context.AfterFunc(ctx, func() { _ = n.nc.SetDeadline(time.Unix(1, 0)) })
		defer stop()
		ids := 0
		iq := func(ctx context.Context, req *xmlstream.Element) (*xmlstream.Element, error) {
			if req.Get("id") == "" {
				ids++
				req.Set("id", fmt.Sprintf("pre%d", ids))
			}
			return n.iq(req)
		}
		err = f(ctx, features, iq)
		_, _ = n.nc.Write([]byte(xmlstream.StreamEnd))
		return err
	}
	return lastErr
}

// preAuthEndpoint connects to ep and negotiates TLS only.
func (s *Session) preAuthEndpoint(ctx context.Context, ep dial.Endpoint) (*negotiation, stream.Features, error) {
	n, info, err := s.transport(ctx, ep)
	if err != nil {
		return nil, stream.Features{}, err
	}
	stop := context.AfterFunc(ctx, func() { _ = n.nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	f, err := n.secure(ctx, &info)
	if err != nil {
		_ = n.nc.Close()
		return nil, stream.Features{}, err
	}
	return n, f, nil
}
