// Package xmpptest is test infrastructure for Tern's XMPP engine:
//
//   - CA, a throwaway certificate authority (a second CA gives untrusted
//     certificates, a leaf for another name a mismatched one);
//   - StartProsody and StartEjabberd, real servers on loopback with a private
//     configuration: RFC 6120 c2s with required STARTTLS, XEP-0368 Direct TLS,
//     XEP-0198 stream management, XEP-0313 MAM, XEP-0045 MUC at
//     conference.<domain>, XEP-0363 HTTP upload at upload.<domain> over
//     loopback HTTPS, and the other features a client needs;
//   - Proxy, a loopback TCP proxy that can cut, refuse, stall and throttle
//     connections for reconnection and resumption tests.
//
// It is imported only by _test files of other packages. Missing server
// binaries fail the test with installation instructions; nothing skips.
package xmpptest
