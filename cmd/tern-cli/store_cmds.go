package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/storage/sqlite"
)

// Limits of the commands that read the store.
const (
	defaultLimit = 50
	maxLimit     = 10000
)

// cmdRoster syncs the roster with the server (unless --offline) and prints
// the stored roster.
func (e *env) cmdRoster(ctx context.Context, args []string) error {
	fs := e.newFlags("roster", true)
	fs.StringVar(&e.g.account, "account", e.g.account, "the account (default: the only one)")
	offline := fs.Bool("offline", false, "print the stored roster without connecting")
	asJSON := fs.Bool("json", false, "print one JSON object per contact")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("roster: unexpected argument %q", pos[0])}
	}
	if !*offline {
		// The engine fetches the roster (with versioning) before online
		// returns to the body.
		if err := e.online(ctx, nil, func(context.Context, *client.Client) error { return nil }); err != nil {
			return err
		}
	}
	db, err := e.store(ctx)
	if err != nil {
		return err
	}
	acct, err := e.account(ctx, db)
	if err != nil {
		return err
	}
	var items []client.RosterItem
	var reqs []client.SubscriptionRequest
	err = db.View(ctx, func(tx client.Tx) error {
		var err error
		if _, items, err = tx.Roster(ctx, acct.ID); err != nil {
			return err
		}
		reqs, err = tx.SubscriptionRequests(ctx, acct.ID)
		return err
	})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetEscapeHTML(false)
		for _, it := range items {
			if err := enc.Encode(rosterJSON(it)); err != nil {
				return err
			}
		}
		for _, r := range reqs {
			if err := enc.Encode(obj{"subscription_request": r.JID.String(), "nick": r.Nick, "status": r.Status,
				"received": timeString(r.Received)}); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JID\tNAME\tSUBSCRIPTION\tGROUPS")
	for _, it := range items {
		sub := it.Subscription.String()
		if it.Ask {
			sub += " (asked)"
		}
		if it.Approved {
			sub += " (pre-approved)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", it.JID, dash(clean(it.Name)), sub, dash(clean(strings.Join(it.Groups, ", "))))
	}
	for _, r := range reqs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.JID, dash(clean(r.Nick)), "requests subscription", "-")
	}
	return tw.Flush()
}

// storeAccount opens the store and returns the account to use.
func (e *env) storeAccount(ctx context.Context) (*sqlite.DB, client.Account, error) {
	db, err := e.store(ctx)
	if err != nil {
		return nil, client.Account{}, err
	}
	acct, err := e.account(ctx, db)
	return db, acct, err
}

func limitFlag(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > maxLimit {
		return 0, usageError{fmt.Sprintf("--limit: want a number from 1 to %d", maxLimit)}
	}
	return n, nil
}

// cmdHistory prints a stored conversation, oldest first.
func (e *env) cmdHistory(ctx context.Context, args []string) error {
	fs := e.newFlags("history", false)
	fs.StringVar(&e.g.account, "account", e.g.account, "the account (default: the only one)")
	before := fs.Int64("before", 0, "only messages before the message with this id")
	limit := fs.String("limit", strconv.Itoa(defaultLimit), "at most this many messages (the newest)")
	asJSON := fs.Bool("json", false, "print one JSON object per message")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"history: give exactly one contact JID"}
	}
	peer, err := bareArg("history", pos[0])
	if err != nil {
		return err
	}
	n, err := limitFlag(*limit)
	if err != nil {
		return err
	}
	if *before < 0 {
		return usageError{"history: --before: want a message id"}
	}
	db, acct, err := e.storeAccount(ctx)
	if err != nil {
		return err
	}
	conv, ok, err := conversationWith(ctx, db, acct.ID, peer)
	if err != nil || !ok {
		return err // no conversation: no history
	}
	var msgs []client.Message
	if *before != 0 {
		msgs, err = db.PageBefore(ctx, conv, client.MessageID(*before), n)
	} else {
		msgs, err = db.LatestPage(ctx, conv, n)
	}
	if errors.Is(err, client.ErrNotFound) {
		return fmt.Errorf("history: no message %d with %s: %w", *before, peer, err)
	}
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetEscapeHTML(false)
		for _, m := range msgs {
			if err := enc.Encode(messageJSON(m, peer.String())); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tFROM\tSTATE\tTEXT")
	for _, m := range msgs {
		state := "-"
		if m.State != client.StateNone {
			state = m.State.String()
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", m.ID, m.Time.Local().Format("2006-01-02 15:04:05"), dash(clean(m.Sender)), state, textOf(m))
	}
	return tw.Flush()
}

// textOf is how the history table shows a message's text.
func textOf(m client.Message) string {
	switch {
	case !m.Retracted.IsZero():
		return "(retracted)"
	case m.LastCorrection != nil:
		return clean(m.LastCorrection.Body) + " (corrected)"
	}
	t := clean(m.Body)
	if m.State == client.StateFailed && m.Failure != "" {
		t += " (failed: " + clean(m.Failure) + ")"
	}
	return t
}

// clean keeps a peer's text on one line, without control characters that
// could rewrite the terminal.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return -1
		}
		return r
	}, s)
}

// conversationWith finds the one-to-one conversation of acct with peer.
func conversationWith(ctx context.Context, db *sqlite.DB, acct client.AccountID, peer jid.JID) (client.ConversationID, bool, error) {
	convs, err := db.Conversations(ctx, acct)
	if err != nil {
		return 0, false, err
	}
	for _, c := range convs {
		if c.Peer == peer {
			return c.ID, true, nil
		}
	}
	return 0, false, nil
}

// cmdSearch prints the stored messages matching a query, most relevant
// first.
func (e *env) cmdSearch(ctx context.Context, args []string) error {
	fs := e.newFlags("search", false)
	fs.StringVar(&e.g.account, "account", e.g.account, "the account (default: the only one)")
	limit := fs.String("limit", strconv.Itoa(defaultLimit), "at most this many results")
	asJSON := fs.Bool("json", false, "print one JSON object per result")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	query := strings.TrimSpace(strings.Join(pos, " "))
	if query == "" {
		return usageError{"search: give a query"}
	}
	n, err := limitFlag(*limit)
	if err != nil {
		return err
	}
	db, acct, err := e.storeAccount(ctx)
	if err != nil {
		return err
	}
	hits, err := db.Search(ctx, acct.ID, query, n)
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	peers := peerCache{db: db, peers: map[client.ConversationID]jid.JID{}}
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	if !*asJSON {
		fmt.Fprintln(tw, "ID\tTIME\tWITH\tMATCH")
	}
	for _, h := range hits {
		var plain, marked strings.Builder
		for _, p := range h.Snippet {
			plain.WriteString(p.Text)
			if p.Match {
				marked.WriteString("[" + clean(p.Text) + "]")
			} else {
				marked.WriteString(clean(p.Text))
			}
		}
		peer := peers.peer(ctx, h.Conversation)
		if *asJSON {
			if err := enc.Encode(obj{"id": h.Message, "conversation": h.Conversation, "peer": peer,
				"time": timeString(h.Time), "snippet": plain.String(), "marked": marked.String(), "score": h.Score}); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", h.Message, h.Time.Local().Format("2006-01-02 15:04:05"), dash(peer), marked.String())
	}
	if *asJSON {
		return nil
	}
	return tw.Flush()
}

// cmdBlock blocks (XEP-0191) or unblocks JIDs.
func (e *env) cmdBlock(ctx context.Context, args []string, block bool) error {
	name := "unblock"
	if block {
		name = "block"
	}
	fs := e.newFlags(name, true)
	fs.StringVar(&e.g.account, "account", e.g.account, "the account (default: the only one)")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError{name + ": give at least one JID"}
	}
	var jids []jid.JID
	for _, a := range pos {
		j, err := parseJID(name, a)
		if err != nil {
			return err
		}
		jids = append(jids, j)
	}
	return e.online(ctx, nil, func(ctx context.Context, c *client.Client) error {
		if block {
			return c.Block(ctx, jids...)
		}
		return c.Unblock(ctx, jids...)
	})
}
