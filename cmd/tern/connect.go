package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tern-im/tern/app"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/session"
	"github.com/tern-im/tern/protocol/version"
)

// closeTimeout bounds the polite end of a session after a sign-in check.
const closeTimeout = 5 * time.Second

// connectOnce returns the GUI's Connect: it signs in to the account once
// (RFC 6120 over Direct TLS or STARTTLS, certificates verified against the
// system roots), asks the server which software it runs (XEP-0092), closes
// the session and describes what was negotiated.
//
// This is the first wiring of the sign-in screen; the lead replaces it with
// a long-lived protocol/client.Client once the GUI shows a roster.
func connectOnce(log *slog.Logger) app.ConnectFunc {
	return func(ctx context.Context, address, password, server string) (string, error) {
		addr, err := jid.Parse(address)
		if err != nil {
			return "", fmt.Errorf("address: %w", err)
		}
		s, err := session.Dial(ctx, session.Config{
			JID:      addr,
			Password: password,
			Server:   server,
			TLS:      &tls.Config{MinVersion: tls.VersionTLS12},
			Logger:   log,
		})
		if err != nil {
			return "", err
		}
		defer func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
			defer cancel()
			if err := s.Close(cctx); err != nil {
				log.Debug("closing the session", "err", err)
			}
		}()
		sw, verr := version.Query(ctx, s, addr.Domainpart())
		if verr != nil {
			log.Debug("server software query", "err", verr)
		}
		return summary(s.Info(), sw, verr), nil
	}
}

// summary describes a negotiated session in a few sentences for the user.
func summary(info session.Info, sw version.Info, swErr error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Signed in as %s.\n", info.JID)
	transport := "STARTTLS"
	if info.DirectTLS {
		transport = "Direct TLS"
	}
	fmt.Fprintf(&b, "Server %s over %s, %s.\n", info.Endpoint, transport, info.TLSVersion())
	fmt.Fprintf(&b, "Authenticated with %s", info.Mechanism)
	if info.ChannelBinding != "" {
		fmt.Fprintf(&b, " bound to the TLS channel (%s)", info.ChannelBinding)
	}
	b.WriteString(".\n")
	switch {
	case info.SM && info.Resumable:
		b.WriteString("Stream Management on, resumable.")
	case info.SM:
		b.WriteString("Stream Management on.")
	default:
		b.WriteString("Stream Management not offered.")
	}
	if swErr == nil && sw.Name != "" {
		s := strings.TrimSpace(sw.Name + " " + sw.Version)
		if sw.OS != "" {
			s += " on " + sw.OS
		}
		fmt.Fprintf(&b, "\nThe server runs %s.", s)
	}
	return b.String()
}
