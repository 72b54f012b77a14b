package client

import (
	"context"

	"github.com/tern-im/tern/protocol/internal/xmlstream"
	"github.com/tern-im/tern/protocol/ping"
	"github.com/tern-im/tern/protocol/version"
)

// registerFeatures is the one list of features the engine implements: each
// registers its handlers and its service discovery feature here.
func registerFeatures(c *Client) {
	m := c.mux
	if c.cfg.Store != nil {
		// The IM features persist what they learn; without a store the
		// client only keeps a connection (tern-cli connect).
		registerContacts(c)       // contacts.go: roster, subscriptions, presence, caps, blocking, vCard, avatars
		registerOMEMO(c)          // omemo.go: device lists, our device; before the catch-up
		registerMessaging(c)      // messaging.go: inbound pipeline, outbox, receipts, markers, chat states, …
		registerOMEMOAfterSync(c) // omemo.go: work postponed until the catch-up ended
	}
	// XEP-0199: answer pings.
	m.HandleIQ("get", ping.NS, "ping", ping.Handle)
	m.AddFeature(ping.NS)
	// XEP-0092: answer software version queries when configured.
	if sw := c.cfg.Software; sw.Name != "" {
		answer := version.Answer(version.Info{Name: sw.Name, Version: sw.Version, OS: sw.OS})
		m.HandleIQ("get", version.NS, "query", func(context.Context, *xmlstream.Element) (*xmlstream.Element, error) {
			return answer.Copy(), nil
		})
		m.AddFeature(version.NS)
	}
}
