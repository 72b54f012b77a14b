package session

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/tern-im/tern/protocol/dial"
	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/sasl"
	"github.com/tern-im/tern/protocol/stanza"
	"github.com/tern-im/tern/protocol/stream"
)

// Errors of negotiation. They are wrapped with detail; test with errors.Is.
var (
	// ErrNoTLS: the server does not offer STARTTLS. Tern never talks XMPP
	// without TLS (RFC 7590), so the connection is refused.
	ErrNoTLS = errors.New("the server does not offer an encrypted connection (STARTTLS); Tern refuses to connect without TLS")
	// ErrProtocol: the server broke the protocol during negotiation.
	ErrProtocol = errors.New("the server broke the XMPP protocol")
	// ErrBind: the server refused to bind a resource.
	ErrBind = errors.New("the server refused to start the session")
	// ErrTooManyRedirects: see-other-host redirected us too often.
	ErrTooManyRedirects = errors.New("the server redirected the connection too many times")
)

// negotiation is the transient state of one connection being set up.
type negotiation struct {
	s      *Session
	nc     net.Conn
	dec    *xmlstream.Decoder
	domain string
	early  []*xmlstream.Element // stanzas that arrived while negotiating
	acked  []*xmlstream.Element // our stanzas acknowledged by <resumed/> or <failed/>
}

const maxRedirects = 3

// endpoints returns the endpoints to try, in order.
func (s *Session) endpoints(ctx context.Context) ([]dial.Endpoint, error) {
	s.mu.Lock()
	redirect := s.redirect
	s.mu.Unlock()
	if redirect != nil {
		return []dial.Endpoint{*redirect}, nil
	}
	if s.cfg.Server != "" {
		ep, err := dial.ParseOverride(s.cfg.Server)
		if err != nil {
			return nil, fmt.Errorf("server address %q: %w", s.cfg.Server, err)
		}
		return []dial.Endpoint{ep}, nil
	}
	eps, err := dial.Endpoints(ctx, s.cfg.Resolver, s.cfg.JID.Domain(), nil)
	if err != nil {
		return nil, fmt.Errorf("look up the server of %s: %w", s.cfg.JID.Domain(), err)
	}
	return eps, nil
}

// fatal reports whether err must not be retried on another endpoint: the
// server answered and said no (authentication, binding), or a certificate
// check failed on an endpoint that otherwise worked.
func fatal(err error) bool {
	var f *sasl.Failure
	var se *stream.Error
	return errors.As(err, &f) || errors.Is(err, ErrBind) ||
		errors.Is(err, sasl.ErrNoMechanism) || errors.Is(err, ErrNoTLS) ||
		(errors.As(err, &se) && se.Condition != "see-other-host")
}

// open establishes a new connection: transport, TLS, SASL, then resumption
// of the previous stream or a new binding. It returns the connection with
// its goroutines not yet started.
func (s *Session) open(ctx context.Context, resume bool) (*negotiation, Info, []*xmlstream.Element, error) {
	var lastErr error
	for redirects := 0; ; redirects++ {
		eps, err := s.endpoints(ctx)
		if err != nil {
			return nil, Info{}, nil, err
		}
		redirected := false
		for _, ep := range eps {
			n, info, undelivered, err := s.openEndpoint(ctx, ep, resume)
			if err == nil {
				return n, info, undelivered, nil
			}
			if ctx.Err() != nil {
				return nil, Info{}, nil, err
			}
			var se *stream.Error
			if errors.As(err, &se) && se.Condition == "see-other-host" {
				host, port, ok := se.Redirect()
				if !ok {
					return nil, Info{}, nil, fmt.Errorf("%w: invalid see-other-host %q", ErrProtocol, se.SeeOtherHost)
				}
				s.mu.Lock()
				s.redirect = &dial.Endpoint{Host: host, Port: port, Auto: true}
				s.mu.Unlock()
				s.cfg.Logger.Info("server redirected us", "host", host, "port", port)
				redirected = true
				lastErr = err
				break
			}
			s.cfg.Logger.Debug("endpoint failed", "host", ep.Host, "port", ep.Port, "err", err)
			if fatal(err) {
				return nil, Info{}, nil, err
			}
			if lastErr == nil || !isCertError(lastErr) {
				lastErr = err
			}
		}
		if !redirected {
			return nil, Info{}, nil, lastErr
		}
		if redirects >= maxRedirects {
			return nil, Info{}, nil, ErrTooManyRedirects
		}
	}
}

func isCertError(err error) bool {
	var ce *dial.CertificateError
	return errors.As(err, &ce)
}

func (s *Session) dialer() *dial.Dialer {
	return &dial.Dialer{Resolver: s.cfg.Resolver, TLSConfig: s.cfg.TLS}
}

// openEndpoint tries one endpoint.
func (s *Session) openEndpoint(ctx context.Context, ep dial.Endpoint, resume bool) (*negotiation, Info, []*xmlstream.Element, error) {
	n, info, err := s.transport(ctx, ep)
	if err != nil {
		return nil, info, nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = n.nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	info, undelivered, err := n.run(ctx, info, resume)
	if err != nil {
		_ = n.nc.Close()
		if ctx.Err() != nil {
			return nil, info, nil, ctx.Err()
		}
		return nil, info, nil, err
	}
	_ = n.nc.SetDeadline(time.Time{})
	return n, info, undelivered, nil
}

// transport opens the connection to ep: Direct TLS, plain TCP for STARTTLS,
// or for a manual endpoint Direct TLS first and then STARTTLS.
func (s *Session) transport(ctx context.Context, ep dial.Endpoint) (*negotiation, Info, error) {
	domain := s.cfg.JID.Domain()
	d := s.dialer()
	info := Info{Endpoint: net.JoinHostPort(ep.Host, strconv.Itoa(int(ep.Port)))}
	var nc net.Conn
	var err error
	switch {
	case ep.Auto:
		direct := ep
		direct.Auto, direct.DirectTLS = false, true
		nc, err = d.Dial(ctx, domain, direct)
		if err == nil {
			info.DirectTLS = true
			break
		}
		// A port that does not speak Direct TLS answers with XML or just
		// closes; either way STARTTLS is tried next, which still requires
		// TLS. A certificate problem is final: it is not a protocol mismatch.
		if isCertError(err) || ctx.Err() != nil {
			return nil, info, err
		}
		s.cfg.Logger.Debug("endpoint does not speak Direct TLS, trying STARTTLS", "endpoint", info.Endpoint, "notTLS", dial.IsNotTLS(err))
		plain := ep
		plain.Auto, plain.DirectTLS = false, false
		nc, err = d.Dial(ctx, domain, plain)
	default:
		nc, err = d.Dial(ctx, domain, ep)
		info.DirectTLS = ep.DirectTLS
	}
	if err != nil {
		return nil, info, err
	}
	return &negotiation{s: s, nc: nc, domain: domain}, info, nil
}

func (n *negotiation) deadline() { _ = n.nc.SetDeadline(time.Now().Add(n.s.cfg.Timeout)) }

// restart opens a new stream on the current transport and returns the
// server's features.
func (n *negotiation) restart(tlsOn bool) (stream.Features, error) {
	n.deadline()
	h := xmlstream.Header{To: n.domain, Version: "1.0", Lang: n.s.cfg.Lang, NS: stream.NSClient}
	if tlsOn {
		// RFC 6120 §4.7.1: include from only when the stream is protected.
		h.From = n.s.cfg.JID.Bare().String()
	}
	n.s.teeText("SEND", fmt.Sprintf("<stream:stream to='%s' version='1.0'>", h.To))
	if err := xmlstream.WriteHeader(n.nc, h); err != nil {
		return stream.Features{}, fmt.Errorf("send stream header: %w", err)
	}
	n.dec = xmlstream.NewDecoder(n.nc, xmlstream.Options{MaxElementSize: n.s.cfg.MaxElementSize})
	sh, err := n.dec.ReadHeader()
	if err != nil {
		return stream.Features{}, fmt.Errorf("read stream header: %w", readErr(err))
	}
	n.s.teeText("RECV", fmt.Sprintf("<stream:stream from='%s' id='%s' version='%s'>", sh.From, sh.ID, sh.Version))
	if sh.Version != "" && sh.Version[0] < '1' {
		return stream.Features{}, fmt.Errorf("%w: stream version %q is older than 1.0", ErrProtocol, sh.Version)
	}
	el, err := n.next()
	if err != nil {
		return stream.Features{}, err
	}
	if !el.Is(stream.NS, "features") {
		return stream.Features{}, fmt.Errorf("%w: expected stream features, got <%s>", ErrProtocol, el.Name.Local)
	}
	return stream.ParseFeatures(el)
}

// next reads the next nonza, keeping stanzas that arrive early and turning
// stream errors into errors.
func (n *negotiation) next() (*xmlstream.Element, error) {
	for {
		el, err := n.dec.Next()
		if err != nil {
			return nil, readErr(err)
		}
		n.s.tee("RECV", el)
		if el.Is(stream.NS, "error") {
			return nil, stream.ParseError(el)
		}
		if el.Name.Space == stream.NSClient && isStanza(el.Name.Local) {
			n.early = append(n.early, el)
			continue
		}
		return el, nil
	}
}

func (n *negotiation) send(el *xmlstream.Element) error {
	n.deadline()
	n.s.tee("SEND", el)
	if _, err := n.nc.Write(xmlstream.Append(nil, el, stream.NSClient)); err != nil {
		return fmt.Errorf("send <%s>: %w", el.Name.Local, err)
	}
	return nil
}

func isStanza(local string) bool { return local == "message" || local == "presence" || local == "iq" }

// readErr turns a clean end of stream into a clear error.
func readErr(err error) error {
	if errors.Is(err, xmlstream.ErrStreamEnd) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: %w", ErrConnectionClosed, err)
	}
	return err
}

func (n *negotiation) run(ctx context.Context, info Info, resume bool) (Info, []*xmlstream.Element, error) {
	f, err := n.secure(ctx, &info)
	if err != nil {
		return info, nil, err
	}
	if err := n.authenticate(&info, f); err != nil {
		return info, nil, err
	}
	f, err = n.restart(true)
	if err != nil {
		return info, nil, err
	}
	info.ServerFeatures = featureList(f)
	return n.bindOrResume(info, f, resume)
}

// secure makes sure the connection is encrypted (STARTTLS when it is not
// Direct TLS; never continuing without TLS) and returns the features of the
// protected stream.
func (n *negotiation) secure(ctx context.Context, info *Info) (stream.Features, error) {
	tlsConn, _ := n.nc.(*tls.Conn)
	if tlsConn == nil {
		f, err := n.restart(false)
		if err != nil {
			return f, err
		}
		if !f.StartTLS {
			return f, ErrNoTLS
		}
		if err := n.send(xmlstream.New(stream.NSTLS, "starttls")); err != nil {
			return f, err
		}
		el, err := n.next()
		if err != nil {
			return f, err
		}
		if !el.Is(stream.NSTLS, "proceed") {
			return f, fmt.Errorf("%w: the server refused to start TLS", ErrNoTLS)
		}
		tlsConn, err = n.s.dialer().StartTLS(ctx, n.nc, n.domain)
		if err != nil {
			return f, err
		}
		n.nc = tlsConn
	}
	info.TLS = tlsConn.ConnectionState()
	return n.restart(true)
}

func featureList(f stream.Features) []string {
	var out []string
	if f.Raw == nil {
		return nil
	}
	for _, c := range f.Raw.Children {
		out = append(out, c.Name.Space)
	}
	return out
}

func (n *negotiation) authenticate(info *Info, f stream.Features) error {
	cs := info.TLS
	cl, err := sasl.Select(sasl.ParseOffer(f.Raw), sasl.Policy{Allow: n.s.cfg.Mechanisms, TLS: &cs},
		sasl.Credentials{Username: n.s.cfg.JID.Local(), Password: n.s.password()})
	if err != nil {
		return err
	}
	info.Mechanism, info.ChannelBinding = cl.Mechanism(), cl.ChannelBinding()
	initial, err := cl.Start()
	if err != nil {
		return fmt.Errorf("sasl %s: %w", cl.Mechanism(), err)
	}
	auth := xmlstream.New(sasl.NS, "auth", "mechanism", cl.Mechanism()).SetText(b64(initial))
	if err := n.send(auth); err != nil {
		return err
	}
	for {
		el, err := n.next()
		if err != nil {
			return err
		}
		switch {
		case el.Is(sasl.NS, "challenge"):
			data, err := unb64(el.Text)
			if err != nil {
				return fmt.Errorf("%w: sasl challenge: %w", ErrProtocol, err)
			}
			resp, err := cl.Step(data)
			if err != nil {
				_ = n.send(xmlstream.New(sasl.NS, "abort"))
				return fmt.Errorf("sasl %s: %w", cl.Mechanism(), err)
			}
			if err := n.send(xmlstream.New(sasl.NS, "response").SetText(b64(resp))); err != nil {
				return err
			}
		case el.Is(sasl.NS, "success"):
			data, err := unb64(el.Text)
			if err != nil {
				return fmt.Errorf("%w: sasl success: %w", ErrProtocol, err)
			}
			if err := cl.Finish(data); err != nil {
				return fmt.Errorf("sasl %s: %w", cl.Mechanism(), err)
			}
			return nil
		case el.Is(sasl.NS, "failure"):
			return sasl.ParseFailure(el)
		default:
			return fmt.Errorf("%w: unexpected <%s> during authentication", ErrProtocol, el.Name.Local)
		}
	}
}

// b64 encodes a SASL payload; an empty one is "=" (RFC 6120 §6.4.2).
func b64(b []byte) string {
	if len(b) == 0 {
		return "="
	}
	return base64.StdEncoding.EncodeToString(b)
}

func unb64(s string) ([]byte, error) {
	if s == "" || s == "=" {
		return nil, nil
	}
	return base64.StdEncoding.DecodeString(s)
}

// bindOrResume resumes the previous stream when asked and possible;
// otherwise it binds a resource and enables Stream Management. It returns
// the stanzas that may not have been delivered when a resumption failed.
func (n *negotiation) bindOrResume(info Info, f stream.Features, resume bool) (Info, []*xmlstream.Element, error) {
	s := n.s
	var undelivered []*xmlstream.Element
	s.mu.Lock()
	canResume := resume && f.SM && s.sm.resumable && s.sm.id != "" &&
		(s.sm.max == 0 || time.Since(s.sm.lostAt) < s.sm.max)
	prevID, inH := s.sm.id, s.sm.inH
	s.mu.Unlock()

	if canResume {
		req := xmlstream.New(stream.NSSM, "resume", "previd", prevID, "h", strconv.FormatUint(uint64(inH), 10))
		if err := n.send(req); err != nil {
			return info, nil, err
		}
		el, err := n.next()
		if err != nil {
			return info, nil, err
		}
		switch {
		case el.Is(stream.NSSM, "resumed"):
			h, err := parseH(el)
			if err != nil {
				return info, nil, err
			}
			s.mu.Lock()
			acked, err := s.sm.ack(h)
			s.sm.written = 0   // resend everything still unacknowledged
			s.sm.requested = 0 // an <r/> on the lost connection may never have been read
			bound := s.info.JID
			s.mu.Unlock()
			if err != nil {
				return info, nil, err
			}
			n.acked = acked
			info.JID, info.SM, info.Resumed = bound, true, true
			s.mu.Lock()
			info.Resumable, info.MaxResume = s.sm.resumable, s.sm.max
			s.mu.Unlock()
			return info, nil, nil
		case el.Is(stream.NSSM, "failed"):
			// XEP-0198 §5: a server may say how much it handled before
			// forgetting the session.
			s.mu.Lock()
			if h, err := parseH(el); err == nil {
				if acked, err := s.sm.ack(h); err == nil {
					n.acked = acked
				}
			}
			s.mu.Unlock()
			s.cfg.Logger.Info("stream resumption failed; binding a new session")
		default:
			return info, nil, fmt.Errorf("%w: unexpected <%s> answering <resume/>", ErrProtocol, el.Name.Local)
		}
	}

	if !f.Bind {
		return info, undelivered, fmt.Errorf("%w: no resource binding offered", ErrProtocol)
	}
	bind := xmlstream.New(stream.NSBind, "bind")
	if r := s.cfg.JID.Resource(); r != "" {
		bind.Append(xmlstream.New(stream.NSBind, "resource").SetText(r))
	}
	res, err := n.iq(stanza.NewIQ("set", "bind-1", jid.JID{}, bind))
	if err != nil {
		return info, undelivered, bindErr(err)
	}
	full, err := jid.Parse(res.Child(stream.NSBind, "bind").ChildText(stream.NSBind, "jid"))
	if err != nil || full.Bare() != s.cfg.JID.Bare() || full.Resource() == "" {
		return info, undelivered, fmt.Errorf("%w: the server bound an invalid address", ErrProtocol)
	}
	info.JID = full
	if f.Session && !f.SessionOptional {
		if _, err := n.iq(stanza.NewIQ("set", "sess-1", jid.JID{}, xmlstream.New(stream.NSSession, "session"))); err != nil {
			return info, undelivered, bindErr(err)
		}
	}
	if resume {
		// The previous stream is gone for good only now that a new one is
		// bound: until then (a bind can fail too) its unacknowledged
		// stanzas stay queued for the next attempt.
		s.mu.Lock()
		undelivered = s.sm.reset()
		s.mu.Unlock()
	}

	if f.SM && !s.cfg.DisableSM {
		if err := n.send(xmlstream.New(stream.NSSM, "enable", "resume", "true")); err != nil {
			return info, undelivered, err
		}
		el, err := n.next()
		if err != nil {
			return info, undelivered, err
		}
		switch {
		case el.Is(stream.NSSM, "enabled"):
			resumable := el.Get("resume") == "true" || el.Get("resume") == "1"
			var max time.Duration
			if v, err := strconv.ParseUint(el.Get("max"), 10, 32); err == nil {
				max = time.Duration(v) * time.Second
			}
			s.mu.Lock()
			s.sm.start(el.Get("id"), resumable, max)
			s.mu.Unlock()
			info.SM, info.Resumable, info.MaxResume = true, resumable && el.Get("id") != "", max
		case el.Is(stream.NSSM, "failed"):
			s.cfg.Logger.Info("the server refused to enable stream management")
		default:
			return info, undelivered, fmt.Errorf("%w: unexpected <%s> answering <enable/>", ErrProtocol, el.Name.Local)
		}
	}
	return info, undelivered, nil
}

// bindErr classifies a failed bind: a refusal by the server (a stanza error
// other than a temporary one) is ErrBind, which needs the user; a temporary
// error or a connection that broke meanwhile is not, so the client simply
// tries again.
func bindErr(err error) error {
	var se *stanza.Error
	if errors.As(err, &se) && se.Type != "wait" { // RFC 6120 §8.3.2: wait = retry later
		return fmt.Errorf("%w: %w", ErrBind, err)
	}
	return fmt.Errorf("bind a resource: %w", err)
}

// iq performs a request/response during negotiation (before the reader
// runs).
func (n *negotiation) iq(req *xmlstream.Element) (*xmlstream.Element, error) {
	if err := n.send(req); err != nil {
		return nil, err
	}
	id := req.Get("id")
	for {
		el, err := n.dec.Next()
		if err != nil {
			return nil, readErr(err)
		}
		n.s.tee("RECV", el)
		if el.Is(stream.NS, "error") {
			return nil, stream.ParseError(el)
		}
		if el.Is(stream.NSClient, "iq") && el.Get("id") == id {
			switch el.Get("type") {
			case "result":
				return el, nil
			case "error":
				if se := stanza.ParseError(el); se != nil {
					return nil, se
				}
				return nil, fmt.Errorf("%w: error reply without a condition", ErrProtocol)
			}
		}
		if el.Name.Space == stream.NSClient && isStanza(el.Name.Local) {
			n.early = append(n.early, el)
		}
	}
}

func parseH(el *xmlstream.Element) (uint32, error) {
	v, err := strconv.ParseUint(el.Get("h"), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%w: invalid h=%q in <%s/>", ErrProtocol, el.Get("h"), el.Name.Local)
	}
	return uint32(v), nil
}
