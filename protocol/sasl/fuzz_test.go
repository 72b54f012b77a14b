package sasl_test

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/sasl"
)

// fuzzMechs are the variants FuzzSCRAMClient drives, chosen by a byte.
var fuzzMechs = []string{
	sasl.SCRAMSHA1, sasl.SCRAMSHA256, sasl.SCRAMSHA512,
	sasl.SCRAMSHA1Plus, sasl.SCRAMSHA256Plus, sasl.SCRAMSHA512Plus,
}

// FuzzSCRAMClient feeds arbitrary server-first and server-final messages to
// a SCRAM client. Besides not panicking it checks that whatever the client
// accepts is sound: an accepted server-first-message extends our nonce and
// yields a proof that an independent server implementation accepts, and
// Finish succeeds only when the server-final-message carries exactly the
// right server signature.
//
// Seeds (testdata/fuzz/FuzzSCRAMClient) include the RFC 5802 and RFC 7677
// exchanges (the nonce depends on the hash so that both replay), an XEP-0474
// exchange, a SCRAM-SHA-512-PLUS exchange and malformed variants.
func FuzzSCRAMClient(f *testing.F) {
	f.Fuzz(func(t *testing.T, mech uint8, serverFirst, serverFinal []byte, finalInChallenge bool) {
		m := fuzzMechs[int(mech)%len(fuzzMechs)]
		nonce := "rOprNGfwEbeRWgbNEkqO" // RFC 7677
		if strings.HasPrefix(m, sasl.SCRAMSHA1) {
			nonce = "fyko+d2lbbFgONRv9qkxdawL" // RFC 5802
		}
		p := fakeTLS(tls.VersionTLS13, sasl.CBTLSExporter)
		p.Allow = []string{m}
		offer := sasl.Offer{Mechanisms: allMechs, ChannelBindings: []string{"tls-exporter", "tls-server-end-point"}}
		c := mustSelect(t, offer, p, userPencil)
		sasl.SetNonce(c, nonce)
		sasl.SetMaxIterations(c, 4096)
		first, err := c.Start()
		if err != nil {
			t.Fatal(err)
		}

		resp, err := c.Step(serverFirst)
		if err != nil {
			if resp != nil {
				t.Fatalf("Step returned %q with error %v", resp, err)
			}
			if c.Finish(serverFinal) == nil {
				t.Fatal("Finish succeeded after a rejected server-first-message")
			}
			return
		}

		// Accepted: rebuild the exchange on the independent server.
		attrs := strings.Split(string(serverFirst), ",")
		if !strings.HasPrefix(attrs[0], "r="+nonce) || len(attrs[0]) <= len("r="+nonce) {
			t.Fatalf("accepted server nonce %q", attrs[0])
		}
		salt, err := base64.StdEncoding.DecodeString(attrs[1][2:])
		if err != nil {
			salt, err = base64.RawStdEncoding.DecodeString(attrs[1][2:])
		}
		iter, ierr := strconv.Atoi(attrs[2][2:])
		if err != nil || ierr != nil || len(salt) == 0 || iter < 1 || iter > 4096 {
			t.Fatalf("accepted salt/iterations %q %q", attrs[1], attrs[2])
		}
		s := newScramServer(m, userPencil.Password)
		s.salt, s.iter = salt, iter
		gs2, bare, _ := strings.Cut(string(first), ",n=")
		s.gs2Header = gs2 + ","
		s.cbFlag, _, _ = strings.Cut(gs2, ",")
		s.cbData = []byte("cb:tls-exporter")
		s.clientFirstBare = "n=" + bare
		s.serverFirst = string(serverFirst)
		s.fullNonce = attrs[0][2:]
		v, err := s.final(resp)
		if err != nil {
			t.Fatalf("independent server rejects client-final %q: %v", resp, err)
		}

		if finalInChallenge {
			var r []byte
			r, err = c.Step(serverFinal)
			if err == nil {
				if len(r) != 0 {
					t.Fatalf("response to server-final %q", r)
				}
				err = c.Finish(nil)
			}
		} else {
			err = c.Finish(serverFinal)
		}
		if err == nil {
			sig, _, _ := bytes.Cut(serverFinal, []byte(","))
			if !bytes.Equal(sig, v) {
				t.Fatalf("accepted server-final %q, want signature %q", serverFinal, v)
			}
		}
	})
}
