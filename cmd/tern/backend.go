package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/tern-im/tern/app"
	"github.com/tern-im/tern/app/account"
	"github.com/tern-im/tern/cmd/internal/profile"
	"github.com/tern-im/tern/crypto/omemo"
	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/session"
	"github.com/tern-im/tern/storage/keyring"
	"github.com/tern-im/tern/storage/sqlite"
)

// Timeouts of the engine work the GUI waits for.
const (
	// signInTimeout bounds checking credentials and registering.
	signInTimeout = 45 * time.Second
	// closeTimeout bounds the polite end of a session after a sign-in check.
	closeTimeout = 5 * time.Second
)

// softwareName is what Tern answers to XEP-0092 queries.
const softwareName = "Tern"

// errAlreadyAdded: the account to sign in to is already stored.
var errAlreadyAdded = errors.New("the account is already added")

// config is what the backend is built from.
type config struct {
	dbPath string
	caFile string
	kr     *keyring.Keyring
	log    *slog.Logger
}

// backend implements app.Backend on storage/sqlite and storage/keyring.
type backend struct {
	cfg config
	db  *sqlite.DB
	key *keyring.DataKey
	tls *tls.Config
	log *slog.Logger
}

var _ app.Backend = (*backend)(nil)

// openBackend opens the database with its data key (see profile.Open).
// Without a keyring it fails with app.ErrNeedPassphrase (the data exists)
// or app.ErrChoosePassphrase (first use) until given a passphrase.
func openBackend(ctx context.Context, cfg config, passphrase []byte) (app.Backend, error) {
	tlsCfg, err := profile.TLSConfig(cfg.caFile)
	if err != nil {
		return nil, err
	}
	path, err := profile.Path(cfg.dbPath)
	if err != nil {
		return nil, err
	}
	db, key, err := profile.Open(ctx, profile.Options{Path: path, Keyring: cfg.kr, Passphrase: passphrase, Logger: cfg.log})
	if errors.Is(err, profile.ErrNeedPassphrase) {
		if _, serr := os.Stat(path + profile.KeyInfoSuffix); errors.Is(serr, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %w", app.ErrChoosePassphrase, err)
		}
		return nil, fmt.Errorf("%w: %w", app.ErrNeedPassphrase, err)
	}
	if err != nil {
		return nil, describe(err, "")
	}
	return &backend{cfg: cfg, db: db, key: key, tls: tlsCfg, log: cfg.log}, nil
}

// History implements app.Backend.
func (b *backend) History() client.History { return b.db }

// Accounts implements app.Backend.
func (b *backend) Accounts(ctx context.Context) ([]client.Account, error) {
	var accts []client.Account
	err := b.db.View(ctx, func(tx client.Tx) error {
		var err error
		accts, err = tx.Accounts(ctx)
		return err
	})
	return accts, err
}

// sessionConfig returns the connection settings of an account.
func (b *backend) sessionConfig(addr jid.JID, password, server string) session.Config {
	return session.Config{JID: addr, Password: password, Server: server, TLS: b.tls.Clone(), Logger: b.log}
}

// NewClient implements app.Backend.
func (b *backend) NewClient(ctx context.Context, a client.Account, password string) (*client.Client, error) {
	if password == "" {
		pw, err := b.cfg.kr.Password(ctx, a.JID)
		if err != nil {
			return nil, fmt.Errorf("password of %s: %w", a.JID, err)
		}
		password = pw
	}
	addr := a.JID
	if a.Resource != "" {
		var err error
		if addr, err = a.JID.WithResource(a.Resource); err != nil {
			return nil, fmt.Errorf("account resource: %w", err)
		}
	}
	return client.New(client.Config{
		Session:    b.sessionConfig(addr, password, a.Server),
		MinBackoff: time.Second,
		MaxBackoff: 2 * time.Minute,
		Software:   client.SoftwareInfo{Name: softwareName},
		Logger:     b.log.With("account", a.JID.String()),
		Store:      b.db,
		Account:    a.ID,
		// OMEMO (XEP-0384): its state lives in the same database.
		E2EE: omemo.NewE2EE(omemo.New(a.ID, a.JID, omemo.Options{Logger: b.log.With("account", a.JID.String(), "component", "omemo")})),
	}), nil
}

// parseAddress parses an account address typed by the user.
func parseAddress(address string) (jid.JID, error) {
	addr, err := jid.Parse(strings.TrimSpace(address))
	if err != nil {
		return jid.JID{}, &userError{msg: "This is not a valid address: " + err.Error() + ".", err: err}
	}
	if addr.Local() == "" {
		return jid.JID{}, &userError{msg: "The address needs a name before the @.", err: jid.ErrEmptyLocal}
	}
	return addr.Bare(), nil
}

// SignIn implements app.Backend: it signs in once to check the
// credentials, then stores the account and its password.
func (b *backend) SignIn(ctx context.Context, address, password, server string) (client.Account, error) {
	addr, err := parseAddress(address)
	if err != nil {
		return client.Account{}, err
	}
	accts, err := b.Accounts(ctx)
	if err != nil {
		return client.Account{}, err
	}
	for _, a := range accts {
		if a.JID == addr {
			return client.Account{}, &userError{msg: addr.String() + " is already added.", err: errAlreadyAdded}
		}
	}
	vctx, cancel := context.WithTimeout(ctx, signInTimeout)
	defer cancel()
	s, err := session.Dial(vctx, b.sessionConfig(addr, password, server))
	if err != nil {
		if ctx.Err() != nil {
			return client.Account{}, ctx.Err()
		}
		return client.Account{}, describe(err, addr.Domain())
	}
	cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
	defer ccancel()
	if err := s.Close(cctx); err != nil {
		b.log.Debug("closing the sign-in check", "err", err)
	}
	a, stored, err := profile.StoreAccount(ctx, b.db, b.cfg.kr, client.Account{JID: addr, Server: server, Enabled: true}, password)
	if err != nil {
		return client.Account{}, describe(err, addr.Domain())
	}
	if !stored {
		b.log.Info("no keyring: the password is asked at each start", "jid", addr)
	}
	return a, nil
}

// Register implements app.Backend.
func (b *backend) Register(ctx context.Context, address, password, server string, fill account.FillFunc) error {
	addr, err := parseAddress(address)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, signInTimeout+5*time.Minute) // the user fills in the form meanwhile
	defer cancel()
	err = client.Register(rctx, b.sessionConfig(addr, password, server), fill)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return describe(err, addr.Domain())
	}
	return nil
}

// SetEnabled implements app.Backend.
func (b *backend) SetEnabled(ctx context.Context, id client.AccountID, on bool) error {
	return b.db.Update(ctx, func(tx client.Tx) error {
		a, err := tx.Account(ctx, id)
		if err != nil {
			return err
		}
		a.Enabled = on
		_, err = tx.PutAccount(ctx, a)
		return err
	})
}

// RemoveAccount implements app.Backend.
func (b *backend) RemoveAccount(ctx context.Context, a client.Account) error {
	if err := b.db.Update(ctx, func(tx client.Tx) error { return tx.DeleteAccount(ctx, a.ID) }); err != nil {
		return fmt.Errorf("remove the account: %w", err)
	}
	if err := b.cfg.kr.DeletePassword(ctx, a.JID); err != nil && !errors.Is(err, client.ErrNoKeyring) {
		return fmt.Errorf("the account is gone, but its password is still in the keyring: %w", err)
	}
	return nil
}

// Roster implements app.Backend (contacts.Directory).
func (b *backend) Roster(ctx context.Context, acct client.AccountID) ([]client.RosterItem, error) {
	var items []client.RosterItem
	err := b.db.View(ctx, func(tx client.Tx) error {
		var err error
		_, items, err = tx.Roster(ctx, acct)
		return err
	})
	return items, err
}

// SubscriptionRequests implements app.Backend (contacts.Directory).
func (b *backend) SubscriptionRequests(ctx context.Context, acct client.AccountID) ([]client.SubscriptionRequest, error) {
	var reqs []client.SubscriptionRequest
	err := b.db.View(ctx, func(tx client.Tx) error {
		var err error
		reqs, err = tx.SubscriptionRequests(ctx, acct)
		return err
	})
	return reqs, err
}

// Blocklist implements app.Backend (contacts.Directory).
func (b *backend) Blocklist(ctx context.Context, acct client.AccountID) ([]jid.JID, error) {
	var list []jid.JID
	err := b.db.View(ctx, func(tx client.Tx) error {
		var err error
		list, err = tx.Blocklist(ctx, acct)
		return err
	})
	return list, err
}

// Close implements app.Backend.
func (b *backend) Close() error {
	err := b.db.Close()
	b.key.Destroy()
	return err
}
