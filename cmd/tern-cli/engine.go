package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/session"
	"github.com/tern-im/tern/storage/sqlite"
)

// software is what tern-cli answers to XEP-0092 queries.
var software = client.SoftwareInfo{Name: "Tern (tern-cli)"}

// newClient returns an engine for a stored account, with its password.
func (e *env) newClient(ctx context.Context, db *sqlite.DB, acct client.Account) (*client.Client, error) {
	pw, err := e.password(ctx, acct.JID)
	if err != nil {
		return nil, err
	}
	addr := acct.JID
	if acct.Resource != "" {
		if addr, err = acct.JID.WithResource(acct.Resource); err != nil {
			return nil, fmt.Errorf("account resource: %w", err)
		}
	}
	scfg, err := e.sessionConfig(addr, pw, acct.Server)
	if err != nil {
		return nil, err
	}
	return client.New(client.Config{
		Session:     scfg,
		MinBackoff:  time.Second,
		MaxBackoff:  30 * time.Second,
		NetworkPoll: -1,
		Software:    software,
		Logger:      e.log,
		Store:       db,
		Account:     acct.ID,
		E2EE:        e.newE2EE(acct),
	}), nil
}

// online connects the account once, waits until the engine has done what
// follows every sign-in (roster, block list, presence, outbox flush), runs
// body, and disconnects. Every event goes to handle (on the event loop:
// it must not block). A failed first connection attempt is the error.
func (e *env) online(ctx context.Context, handle func(client.Event), body func(ctx context.Context, c *client.Client) error) error {
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
	ctx, cancel := context.WithTimeout(ctx, e.g.timeout)
	defer cancel()
	// Hooks run in registration order: this one runs after the
	// features' (registered by client.New).
	ready := make(chan struct{})
	var once sync.Once
	c.OnOnline(func(context.Context, session.Info) { once.Do(func() { close(ready) }) })

	runCtx, stop := context.WithCancel(context.Background())
	defer stop()
	bodyCtx, bodyCancel := context.WithCancel(ctx)
	defer bodyCancel()
	runErr := make(chan error, 1)
	go func() { runErr <- c.Run(runCtx) }()

	var (
		result   error
		bodyDone chan error
		events   = c.Events()
		started  bool
	)
loop:
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				break loop
			}
			if handle != nil {
				handle(ev)
			}
			switch ev := ev.(type) {
			case client.Failed:
				result = ev.Err
				break loop
			case client.Offline:
				if !started {
					result = ev.Err
					break loop
				}
			}
		case <-ready:
			ready = nil
			started = true
			bodyDone = make(chan error, 1)
			go func() { bodyDone <- body(bodyCtx, c) }()
		case err := <-bodyDone:
			result, bodyDone = err, nil
			break loop
		case <-ctx.Done():
			result = ctx.Err()
			break loop
		}
	}
	bodyCancel()
	stop()
	// Drain the events until Run has closed the stream and returns.
	for range events {
	}
	if err := <-runErr; result == nil {
		result = err
	}
	if bodyDone != nil {
		<-bodyDone // cancelled above
	}
	return result
}

// bareArg parses a contact JID argument and returns its bare JID.
func bareArg(what, s string) (jid.JID, error) {
	j, err := parseJID(what, s)
	if err != nil {
		return jid.JID{}, err
	}
	return j.Bare(), nil
}
