// Package protocol is the root of Tern's XMPP engine. It holds no code; its
// subpackages implement RFC 6120 (XMPP Core), RFC 6121 (Instant Messaging and
// Presence), RFC 7622 (addresses) and the XEPs Tern supports, in tiers where a
// package imports only its own tier or a lower one:
//
//   - tier 0: jid (RFC 7622) and internal/* (the size-limited XML element stream);
//   - tier 1: stanza, stream, sasl, dial — stanza and stream values and errors,
//     SCRAM/PLAIN state machines without I/O, SRV, Direct TLS (XEP-0368) and STARTTLS;
//   - tier 2: session and mux — stream negotiation, XEP-0198 Stream Management,
//     IQ tracking and routing of inbound stanzas;
//   - tier 3: one package per feature, named for its function, whose package
//     comment names its XEP; they may build on forward, delay, rsm, form and pubsub;
//   - tier 4: client, the engine, one Client per account.
//
// protocol/xmpptest is test infrastructure (a throwaway CA, server
// harnesses) and may be imported by tests only. deps_test.go in this
// directory enforces these rules with go list; see DESIGN.md §2.
package protocol
