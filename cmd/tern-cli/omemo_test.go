package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/xmpptest"
)

// TestOMEMOCommands: the omemo subcommands and encrypted send/receive
// through tern-cli, two users with a profile each on a real Prosody.
func TestOMEMOCommands(t *testing.T) {
	srv := xmpptest.StartProsody(t, xmpptest.Options{})
	const pw = "omemo cli passphrase"
	srv.CreateAccount(t, "alice", pw)
	srv.CreateAccount(t, "bob", pw)
	alice, bob := newProfile(t, srv, testService(t)), newProfile(t, srv, testService(t))
	aliceJID, bobJID := alice.addAccount("alice", pw).String(), bob.addAccount("bob", pw).String()

	// bob's device exists (made offline by fingerprint), and is published
	// by any command that connects.
	var own struct {
		JID         string `json:"jid"`
		Device      uint32 `json:"device"`
		Fingerprint string `json:"fingerprint"`
	}
	if err := json.Unmarshal([]byte(bob.must("", "omemo", "fingerprint", "--json").stdout), &own); err != nil {
		t.Fatal(err)
	}
	if own.JID != bobJID || own.Device == 0 || len(own.Fingerprint) != 64 {
		t.Fatalf("fingerprint: %+v", own)
	}
	text := bob.must("", "omemo", "fingerprint").stdout
	if !strings.Contains(text, fmt.Sprintf("device %d", own.Device)) || !strings.Contains(text, own.Fingerprint[:8]+" "+own.Fingerprint[8:16]) {
		t.Fatalf("fingerprint text: %q", text)
	}
	bob.must("", "roster")

	// alice fetches bob's devices: the fingerprint, blindly trusted.
	type device struct {
		Device uint32 `json:"device"`
		Active bool   `json:"active"`
		Keys   []struct {
			Fingerprint string `json:"fingerprint"`
			Trust       string `json:"trust"`
		} `json:"keys"`
	}
	devices := func(args ...string) []device {
		t.Helper()
		var ds []device
		out := alice.must("", append([]string{"omemo", "devices", bobJID, "--json"}, args...)...).stdout
		if err := json.Unmarshal([]byte(out), &ds); err != nil {
			t.Fatal(err)
		}
		return ds
	}
	ds := devices()
	if len(ds) != 1 || ds[0].Device != own.Device || !ds[0].Active || len(ds[0].Keys) != 1 ||
		ds[0].Keys[0].Fingerprint != own.Fingerprint || ds[0].Keys[0].Trust != "blind" {
		t.Fatalf("bob's devices: %+v", ds)
	}

	// Verification by bob's URI.
	uri := strings.TrimSpace(bob.must("", "omemo", "uri").stdout)
	if want := fmt.Sprintf("xmpp:%s?omemo-sid-%d=%s", bobJID, own.Device, own.Fingerprint); uri != want {
		t.Fatalf("uri %q, want %q", uri, want)
	}
	alice.must("", "omemo", "verify", uri)
	if ds := devices("--offline"); ds[0].Keys[0].Trust != "verified" {
		t.Fatalf("after verify: %+v", ds)
	}

	// Encrypted on the wire, decrypted by bob's catch-up.
	const secret = "the eagle lands at midnight"
	r := alice.must("", "--console", "send", "--to", bobJID, "--body", secret)
	if strings.Contains(r.stderr, secret) || !strings.Contains(r.stderr, "eu.siacs.conversations.axolotl") {
		t.Fatalf("the console shows the plaintext, or no OMEMO element:\n%s", r.stderr)
	}
	bob.must("", "roster")
	h := bob.must("", "history", aliceJID, "--json").stdout
	var msg struct {
		Body       string `json:"body"`
		Encryption string `json:"encryption"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(h)), &msg); err != nil {
		t.Fatalf("%v: %s", err, h)
	}
	if msg.Body != secret || msg.Encryption != "omemo" {
		t.Fatalf("bob's history: %s", h)
	}

	// Distrusted: nothing to encrypt to, so the message fails.
	alice.must("", "omemo", "distrust", bobJID, strings.ToUpper(own.Fingerprint))
	alice.fails(exitFailure, "", []string{"send", "--to", bobJID, "--body", "no way"}, "no trusted OMEMO device")
	// Plaintext when the user says so.
	alice.must("", "send", "--to", bobJID, "--body", "in the clear", "--encryption", "disabled")

	alice.fails(exitUsage, "", []string{"omemo", "trust", bobJID}, "want 2 argument")
	alice.fails(exitUsage, "", []string{"omemo", "bogus"}, "omemo: want")
}
