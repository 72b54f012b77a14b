package main

import (
	"bytes"
	"net"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/xmpptest"
)

func TestConnect(t *testing.T) {
	srv := xmpptest.StartProsody(t, xmpptest.Options{})
	srv.CreateAccount(t, "alice", "pw-alice")
	other := xmpptest.NewCA(t)

	// A port where nothing listens.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()

	cases := []struct {
		name     string
		args     []string
		stdin    string
		code     int
		contains []string
	}{
		{"ok STARTTLS", []string{"--jid", "alice@" + srv.Domain, "--server", srv.Addr(), "--password-stdin", "--ca-file", srv.CA.File()},
			"pw-alice\n", exitOK, []string{"address:", "alice@" + srv.Domain + "/", "via STARTTLS", "TLS 1.3", "SCRAM-SHA-", "stream mgmt: on, resumable", "server software: Prosody"}},
		{"ok Direct TLS", []string{"--jid", "alice@" + srv.Domain + "/cli", "--server", srv.DirectTLSAddr(), "--password-stdin", "--ca-file", srv.CA.File()},
			"pw-alice\n", exitOK, []string{"Direct TLS (XEP-0368)", "resource: cli"}},
		{"wrong password", []string{"--jid", "alice@" + srv.Domain, "--server", srv.Addr(), "--password-stdin", "--ca-file", srv.CA.File()},
			"nope\n", exitAuth, []string{"tern-cli: ", "password"}},
		{"untrusted certificate", []string{"--jid", "alice@" + srv.Domain, "--server", srv.Addr(), "--password-stdin", "--ca-file", other.File()},
			"pw-alice\n", exitCert, []string{"tern-cli: ", "certificate"}},
		{"unreachable", []string{"--jid", "alice@" + srv.Domain, "--server", closed, "--password-stdin", "--ca-file", srv.CA.File()},
			"pw-alice\n", exitNetwork, []string{"tern-cli: "}},
		{"bad address", []string{"--jid", "alice@@x", "--password-stdin"}, "x\n", exitUsage, []string{"tern-cli: connect: "}},
		{"no jid", []string{"--password-stdin"}, "x\n", exitUsage, []string{"--jid is required"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(t.Context(), append([]string{"connect"}, tc.args...), strings.NewReader(tc.stdin), &out, &errOut)
			all := strings.Join(strings.Fields(out.String()+"\n"+errOut.String()), " ")
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", code, tc.code, all)
			}
			for _, s := range tc.contains {
				if !strings.Contains(all, s) {
					t.Errorf("output lacks %q:\n%s", s, all)
				}
			}
			if code != exitOK {
				if n := strings.Count(strings.TrimSpace(errOut.String()), "\n"); n != 0 {
					t.Errorf("error is not one line:\n%s", errOut.String())
				}
				if strings.Contains(all, "pw-alice") {
					t.Error("the password appears in the output")
				}
			}
			t.Logf("%s", all)
		})
	}
}
