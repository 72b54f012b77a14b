package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/storage/sqlite"
)

// cmdListen runs the engine and prints one JSON object per event until ctx
// ends (an interrupt) or a permanent error stops the engine.
func (e *env) cmdListen(ctx context.Context, args []string) error {
	fs := e.newFlags("listen", true)
	fs.StringVar(&e.g.account, "account", e.g.account, "the account to listen on (default: the only one)")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("listen: unexpected argument %q", pos[0])}
	}
	db, err := e.store(ctx)
	if err != nil {
		return err
	}
	acct, err := e.account(ctx, db)
	if err != nil {
		return err
	}
	c, err := e.newClient(ctx, db, acct)
	if err != nil {
		return err
	}
	runErr := make(chan error, 1)
	go func() { runErr <- c.Run(ctx) }()
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	peers := peerCache{db: db, peers: map[client.ConversationID]jid.JID{}}
	var werr error
	for ev := range c.Events() {
		if werr != nil {
			continue // keep draining until Run returns
		}
		obj := eventJSON(context.WithoutCancel(ctx), ev, &peers)
		obj["account"] = acct.JID.String()
		obj["at"] = timeString(time.Now())
		werr = enc.Encode(obj)
	}
	if err := <-runErr; err != nil {
		return err
	}
	return werr
}

// peerCache finds the contact of a conversation.
type peerCache struct {
	db    *sqlite.DB
	peers map[client.ConversationID]jid.JID
}

func (p *peerCache) peer(ctx context.Context, id client.ConversationID) string {
	if j, ok := p.peers[id]; ok {
		return j.String()
	}
	var conv client.Conversation
	err := p.db.View(ctx, func(tx client.Tx) error {
		var err error
		conv, err = tx.Conversation(ctx, id)
		return err
	})
	if err != nil {
		return ""
	}
	p.peers[id] = conv.Peer
	return conv.Peer.String()
}

// obj is one JSON output object.
type obj = map[string]any

// eventJSON describes an event with stable field names. Bodies only appear
// in message events (message, message_queued, message_updated, headline).
func eventJSON(ctx context.Context, ev client.Event, peers *peerCache) obj {
	switch ev := ev.(type) {
	case client.Connecting:
		return obj{"event": "connecting", "attempt": ev.Attempt}
	case client.Online:
		return obj{"event": "online", "jid": ev.Info.JID.String(), "resumed": ev.Info.Resumed}
	case client.Offline:
		o := obj{"event": "offline", "retry_ms": ev.Retry.Milliseconds()}
		if ev.Err != nil {
			o["error"] = oneLine(ev.Err.Error())
		}
		return o
	case client.Failed:
		return obj{"event": "failed", "error": errString(ev.Err)}
	case client.Acked:
		return obj{"event": "acked", "count": len(ev.Stanzas)}
	case client.Undelivered:
		return obj{"event": "undelivered", "count": len(ev.Stanzas)}
	case client.Stanza:
		o := obj{"event": "stanza"}
		if ev.Element != nil {
			o["name"] = ev.Element.Name.Local
			o["from"] = ev.Element.Get("from")
			o["type"] = ev.Element.Get("type")
		}
		return o
	case client.RosterChanged:
		items := make([]obj, 0, len(ev.Items))
		for _, it := range ev.Items {
			items = append(items, rosterJSON(it))
		}
		return obj{"event": "roster", "full": ev.Full, "items": items, "removed": jidStrings(ev.Removed)}
	case client.SubscriptionRequested:
		return obj{"event": "subscription_request", "jid": ev.Request.JID.String(), "nick": ev.Request.Nick,
			"status": ev.Request.Status, "received": timeString(ev.Request.Received)}
	case client.SubscriptionRequestRemoved:
		return obj{"event": "subscription_request_removed", "jid": ev.JID.String()}
	case client.SubscriptionUpdate:
		return obj{"event": "subscription", "jid": ev.JID.String(), "type": ev.Type}
	case client.PresenceChanged:
		p := ev.Presence
		return obj{"event": "presence", "jid": p.JID.String(), "available": ev.Available, "show": p.Show,
			"status": p.Status, "priority": p.Priority, "node": p.Node}
	case client.PresenceError:
		return obj{"event": "presence_error", "from": ev.From.String(), "error": errString(ev.Err)}
	case client.CapsResolved:
		return obj{"event": "caps", "jid": ev.JID.String(), "verified": ev.Verified}
	case client.BlocklistChanged:
		return obj{"event": "blocklist", "jids": jidStrings(ev.JIDs)}
	case client.AvatarChanged:
		return obj{"event": "avatar", "jid": ev.JID.String(), "hash": ev.Hash}
	case client.MessageReceived:
		o := messageJSON(ev.Message, peers.peer(ctx, ev.Message.Conversation))
		o["event"] = "message"
		return o
	case client.MessageQueued:
		o := messageJSON(ev.Message, peers.peer(ctx, ev.Message.Conversation))
		o["event"] = "message_queued"
		return o
	case client.MessageUpdated:
		o := obj{"event": "message_updated", "id": ev.ID, "conversation": ev.Conversation,
			"peer": peers.peer(ctx, ev.Conversation), "retracted": ev.Retracted, "reactions": ev.Reactions}
		if ev.State != client.StateNone {
			o["state"] = ev.State.String()
		}
		if ev.Failure != "" {
			o["failure"] = ev.Failure
		}
		if ev.Corrected != nil {
			o["corrected"] = obj{"id": ev.Corrected.ID, "body": ev.Corrected.Body, "time": timeString(ev.Corrected.Time)}
		}
		return o
	case client.ChatStateChanged:
		return obj{"event": "chat_state", "from": ev.From.String(), "state": string(ev.State)}
	case client.Headline:
		return obj{"event": "headline", "from": ev.From.String(), "subject": ev.Subject, "body": ev.Body}
	case client.OMEMOReady:
		return obj{"event": "omemo_ready", "device": ev.Device, "published": ev.Published}
	case client.DecryptionFailed:
		return obj{"event": "decryption_failed", "id": ev.Message, "conversation": ev.Conversation,
			"from": ev.From.String(), "device": ev.Device, "reason": ev.Reason, "repair": ev.Repair.String()}
	case client.DevicesChanged:
		return obj{"event": "omemo_devices", "jid": ev.Owner.String(), "devices": ev.Devices}
	case client.TrustNeeded:
		return obj{"event": "omemo_trust_needed", "jid": ev.Owner.String(), "devices": ev.Devices}
	}
	return obj{"event": "other", "go_type": fmt.Sprintf("%T", ev)}
}

// messageJSON describes a stored message, peer being its conversation's
// contact.
func messageJSON(m client.Message, peer string) obj {
	o := obj{
		"id": m.ID, "conversation": m.Conversation, "peer": peer,
		"direction": direction(m.Direction), "type": messageType(m.Type), "sender": m.Sender,
		"body": m.Body, "time": timeString(m.Time),
	}
	set := func(k, v string) {
		if v != "" {
			o[k] = v
		}
	}
	set("lang", m.Lang)
	set("thread", m.Thread)
	set("xml_id", m.XMLID)
	set("origin_id", m.OriginID)
	set("sent", timeString(m.Sent))
	set("server_time", timeString(m.Server))
	set("received", timeString(m.Received))
	if m.State != client.StateNone {
		o["state"] = m.State.String()
	}
	set("failure", m.Failure)
	if len(m.StanzaIDs) > 0 {
		ids := make([]obj, 0, len(m.StanzaIDs))
		for _, s := range m.StanzaIDs {
			ids = append(ids, obj{"by": s.Archive.String(), "id": s.ID})
		}
		o["stanza_ids"] = ids
	}
	if len(m.Alternatives) > 0 {
		alts := make([]obj, 0, len(m.Alternatives))
		for _, b := range m.Alternatives {
			alts = append(alts, obj{"lang": b.Lang, "body": b.Text})
		}
		o["alternatives"] = alts
	}
	if m.ReplyTo.ID != "" {
		o["reply_to"] = obj{"to": m.ReplyTo.To, "id": m.ReplyTo.ID}
	}
	if m.Replaces != 0 {
		o["replaces"] = m.Replaces
	}
	if m.LastCorrection != nil {
		o["corrected"] = obj{"id": m.LastCorrection.ID, "body": m.LastCorrection.Body, "time": timeString(m.LastCorrection.Time)}
	}
	if !m.Retracted.IsZero() {
		o["retracted"] = timeString(m.Retracted)
	}
	if m.Encryption == client.EncryptionOMEMO {
		o["encryption"] = "omemo"
		if m.SenderDevice != 0 {
			o["sender_device"] = m.SenderDevice
		}
		if t := trustName(m.Trust); t != "" {
			o["trust"] = t
		}
	}
	if len(m.Attachments) > 0 {
		var urls []string
		for _, a := range m.Attachments {
			urls = append(urls, a.URL)
		}
		o["attachments"] = urls
	}
	if len(m.Reactions) > 0 {
		rs := make([]obj, 0, len(m.Reactions))
		for _, r := range m.Reactions {
			rs = append(rs, obj{"sender": r.Sender, "emojis": r.Emojis})
		}
		o["reactions"] = rs
	}
	return o
}

func rosterJSON(it client.RosterItem) obj {
	groups := it.Groups
	if groups == nil {
		groups = []string{}
	}
	return obj{"jid": it.JID.String(), "name": it.Name, "subscription": it.Subscription.String(),
		"ask": it.Ask, "approved": it.Approved, "groups": groups}
}

// trustName names the trust a message recorded ("" when none).
func trustName(t client.Trust) string {
	switch t {
	case client.TrustUntrusted:
		return "untrusted"
	case client.TrustBlind:
		return "blind"
	case client.TrustVerified:
		return "verified"
	}
	return ""
}

func direction(d client.Direction) string {
	switch d {
	case client.Inbound:
		return "in"
	case client.Outbound:
		return "out"
	}
	return "unknown"
}

func messageType(t client.MessageType) string {
	switch t {
	case client.TypeNormal:
		return "normal"
	case client.TypeChat:
		return "chat"
	case client.TypeGroupchat:
		return "groupchat"
	case client.TypeHeadline:
		return "headline"
	}
	return "unknown"
}

func jidStrings(js []jid.JID) []string {
	out := make([]string, 0, len(js))
	for _, j := range js {
		out = append(out, j.String())
	}
	return out
}

// timeString formats t as RFC 3339 in UTC with milliseconds ("" for the
// zero time).
func timeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return oneLine(err.Error())
}
