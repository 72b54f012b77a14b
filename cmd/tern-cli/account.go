package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"

	profiles "github.com/tern-im/tern/cmd/internal/profile"
	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/session"
)

func (e *env) cmdAccount(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError{"account: give a subcommand: add, list or remove"}
	}
	switch args[0] {
	case "add":
		return e.cmdAccountAdd(ctx, args[1:])
	case "list":
		return e.cmdAccountList(ctx, args[1:])
	case "remove":
		return e.cmdAccountRemove(ctx, args[1:])
	}
	return usageError{fmt.Sprintf("account: unknown subcommand %q (add, list, remove)", args[0])}
}

// cmdAccountAdd verifies an account's credentials by connecting once, then
// stores it: its settings in the database, its password in the keyring.
func (e *env) cmdAccountAdd(ctx context.Context, args []string) error {
	fs := e.newFlags("account add", true)
	jidFlag := fs.String("jid", "", "the account's address (name@example.org[/resource])")
	server := fs.String("server", "", "connect to this host:port instead of looking the server up")
	resource := fs.String("resource", "", "the resource to ask for (default: the JID's, else the server's choice)")
	name := fs.String("name", "", "a display name for the account")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("account add: unexpected argument %q", pos[0])}
	}
	addr, err := parseJID("account add: --jid", *jidFlag)
	if err != nil {
		return err
	}
	if addr.Local() == "" {
		return usageError{"account add: --jid needs a local part (name@domain)"}
	}
	if *resource == "" {
		*resource = addr.Resource()
	}
	// Open the store first: a locked or unreadable database fails before
	// anything is sent to the server.
	if _, err := e.store(ctx); err != nil {
		return err
	}
	if _, err := e.findAccount(ctx, addr.Bare()); err == nil {
		return fmt.Errorf("account add: %s is already stored; remove it first", addr.Bare())
	} else if !errors.Is(err, client.ErrNotFound) {
		return err
	}
	pw, err := e.readPassword(addr)
	if err != nil {
		return err
	}
	if err := e.verify(ctx, addr, pw, *server); err != nil {
		return err
	}
	return e.storeNewAccount(ctx, client.Account{
		JID: addr.Bare(), Resource: *resource, Server: *server, DisplayName: *name, Enabled: true,
	}, pw)
}

// storeNewAccount stores a verified account: its settings in the database
// and its password in the keyring. Without a keyring it warns and keeps the
// account (commands then need --password-stdin); if the keyring refuses for
// another reason, the account is removed again so nothing is half added.
func (e *env) storeNewAccount(ctx context.Context, a client.Account, pw string) error {
	db, err := e.store(ctx)
	if err != nil {
		return err
	}
	a, kept, err := profiles.StoreAccount(ctx, db, e.keyring(), a, pw)
	if err != nil {
		return err
	}
	if !kept {
		fmt.Fprintf(e.stderr, "tern-cli: warning: no keyring: the password was not stored; give --password-stdin to commands that connect\n")
	}
	fmt.Fprintf(e.stdout, "added %s\n", a.JID)
	return nil
}

// verify signs in once with the credentials.
func (e *env) verify(ctx context.Context, addr jid.JID, pw, server string) error {
	cfg, err := e.sessionConfig(addr, pw, server)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, e.g.timeout)
	defer cancel()
	s, err := session.Dial(ctx, cfg)
	if err != nil {
		return err
	}
	cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
	defer ccancel()
	_ = s.Close(cctx)
	return nil
}

// findAccount returns the stored account with the bare JID addr, or an
// error matching client.ErrNotFound.
func (e *env) findAccount(ctx context.Context, addr jid.JID) (client.Account, error) {
	db, err := e.store(ctx)
	if err != nil {
		return client.Account{}, err
	}
	var accts []client.Account
	err = db.View(ctx, func(tx client.Tx) error {
		var err error
		accts, err = tx.Accounts(ctx)
		return err
	})
	if err != nil {
		return client.Account{}, err
	}
	for _, a := range accts {
		if a.JID == addr {
			return a, nil
		}
	}
	return client.Account{}, fmt.Errorf("account %s: %w", addr, client.ErrNotFound)
}

// accountJSON is an account in `account list --json`.
type accountJSON struct {
	JID      string `json:"jid"`
	Resource string `json:"resource,omitempty"`
	Server   string `json:"server,omitempty"`
	Name     string `json:"name,omitempty"`
	Enabled  bool   `json:"enabled"`
	Created  string `json:"created,omitempty"`
}

func (e *env) cmdAccountList(ctx context.Context, args []string) error {
	fs := e.newFlags("account list", false)
	asJSON := fs.Bool("json", false, "print one JSON object per account")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("account list: unexpected argument %q", pos[0])}
	}
	db, err := e.store(ctx)
	if err != nil {
		return err
	}
	var accts []client.Account
	err = db.View(ctx, func(tx client.Tx) error {
		var err error
		accts, err = tx.Accounts(ctx)
		return err
	})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		for _, a := range accts {
			if err := enc.Encode(accountJSON{
				JID: a.JID.String(), Resource: a.Resource, Server: a.Server, Name: a.DisplayName,
				Enabled: a.Enabled, Created: timeString(a.Created),
			}); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JID\tSERVER\tRESOURCE\tNAME")
	for _, a := range accts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.JID, dash(a.Server), dash(a.Resource), dash(a.DisplayName))
	}
	return tw.Flush()
}

func (e *env) cmdAccountRemove(ctx context.Context, args []string) error {
	fs := e.newFlags("account remove", false)
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"account remove: give exactly one account JID"}
	}
	addr, err := bareArg("account remove", pos[0])
	if err != nil {
		return err
	}
	db, err := e.store(ctx)
	if err != nil {
		return err
	}
	a, err := e.findAccount(ctx, addr)
	if err != nil {
		return fmt.Errorf("account remove: %w", err)
	}
	if err := db.Update(ctx, func(tx client.Tx) error { return tx.DeleteAccount(ctx, a.ID) }); err != nil {
		return fmt.Errorf("account remove: %w", err)
	}
	err = e.keyring().DeletePassword(ctx, addr)
	switch {
	case errors.Is(err, client.ErrNoKeyring):
		// Nothing can have been stored there.
	case err != nil:
		return fmt.Errorf("account remove: the account is gone, but its password is still in the keyring: %w", err)
	}
	fmt.Fprintf(e.stdout, "removed %s\n", addr)
	return nil
}

// dash shows an empty value as "-".
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
