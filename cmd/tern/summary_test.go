package main

// An internal test: a main package cannot be imported by a _test package.

import (
	"crypto/tls"
	"errors"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/session"
	"github.com/tern-im/tern/protocol/version"
)

func TestSummary(t *testing.T) {
	romeo := jid.MustParse("romeo@montague.example/orchard")
	tests := []struct {
		name  string
		info  session.Info
		sw    version.Info
		swErr error
		want  []string
		not   []string
	}{
		{
			name: "everything",
			info: session.Info{
				JID: romeo, Endpoint: "xmpp.montague.example:5223", DirectTLS: true,
				TLS:       tls.ConnectionState{Version: tls.VersionTLS13},
				Mechanism: "SCRAM-SHA-256-PLUS", ChannelBinding: "tls-exporter",
				SM: true, Resumable: true,
			},
			sw: version.Info{Name: "Prosody", Version: "0.12.3", OS: "Linux"},
			want: []string{
				"Signed in as romeo@montague.example/orchard.",
				"Server xmpp.montague.example:5223 over Direct TLS, TLS 1.3.",
				"Authenticated with SCRAM-SHA-256-PLUS bound to the TLS channel (tls-exporter).",
				"Stream Management on, resumable.",
				"The server runs Prosody 0.12.3 on Linux.",
			},
		},
		{
			name: "plain STARTTLS, no SM, no version",
			info: session.Info{
				JID: romeo, Endpoint: "192.0.2.1:5222",
				TLS:       tls.ConnectionState{Version: tls.VersionTLS12},
				Mechanism: "SCRAM-SHA-1",
			},
			swErr: errors.New("service-unavailable"),
			want: []string{
				"Server 192.0.2.1:5222 over STARTTLS, TLS 1.2.",
				"Authenticated with SCRAM-SHA-1.",
				"Stream Management not offered.",
			},
			not: []string{"bound to", "The server runs", "resumable"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summary(tt.info, tt.sw, tt.swErr)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("summary lacks %q:\n%s", w, got)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("summary has %q:\n%s", n, got)
				}
			}
		})
	}
}
