package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	profiles "github.com/tern-im/tern/cmd/internal/profile"
	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/session"
	"github.com/tern-im/tern/storage/keyring"
	"github.com/tern-im/tern/storage/sqlite"
)

// keyringTimeout bounds each keyring call: long enough for a user to answer
// an unlock prompt, short enough that a script does not hang for ever.
const keyringTimeout = time.Minute

// closeTimeout bounds closing the keyring at exit.
const closeTimeout = 5 * time.Second

// globals are the flags every command accepts (before the command name or
// among its own flags).
type globals struct {
	db              string
	passphraseStdin bool
	caFile          string
	passwordStdin   bool
	timeout         time.Duration
	console         bool
	account         string
}

// env is what a command runs with: the standard streams, the environment,
// the global flags, and the store and keyring once opened.
type env struct {
	getenv         func(string) string
	stdinFile      *os.File // stdin when it is a file (a terminal to prompt on)
	stdin          *bufio.Reader
	stdout, stderr io.Writer
	log            *slog.Logger

	g globals

	kr  *keyring.Keyring
	db  *sqlite.DB
	key *keyring.DataKey
}

func newEnv(getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) *env {
	e := &env{
		getenv: getenv,
		stdin:  bufio.NewReader(stdin),
		stdout: stdout, stderr: stderr,
		log: slog.New(quietCancel{slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel(getenv)})}),
	}
	e.stdinFile, _ = stdin.(*os.File)
	e.g.db = getenv("TERN_DB")
	e.g.caFile = getenv("TERN_CA_FILE")
	e.g.account = getenv("TERN_ACCOUNT")
	e.g.timeout = time.Minute
	return e
}

// addGlobals defines the global flags on fs, with their current values as
// defaults, so that they may also follow the command name.
func (e *env) addGlobals(fs *flag.FlagSet, connects bool) {
	fs.StringVar(&e.g.db, "db", e.g.db, "the database file (default: $TERN_DB, else the platform's data directory)")
	fs.BoolVar(&e.g.passphraseStdin, "passphrase-stdin", e.g.passphraseStdin, "read the data key passphrase from standard input (only without a keyring)")
	if connects {
		fs.StringVar(&e.g.caFile, "ca-file", e.g.caFile, "trust the CA certificates in this PEM file instead of the system's")
		fs.BoolVar(&e.g.passwordStdin, "password-stdin", e.g.passwordStdin, "read the password from standard input instead of the keyring")
		fs.DurationVar(&e.g.timeout, "timeout", e.g.timeout, "give up after this long")
		fs.BoolVar(&e.g.console, "console", e.g.console, "print the XML console (SASL redacted) to standard error")
	}
}

// parseGlobal parses the global flags before the command name and returns
// the rest of the arguments.
func (e *env) parseGlobal(args []string) ([]string, error) {
	fs := flag.NewFlagSet("tern-cli", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	e.addGlobals(fs, true)
	fs.StringVar(&e.g.account, "account", e.g.account, "the account to use")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return []string{"help"}, nil
		}
		return nil, usageError{err.Error()}
	}
	return fs.Args(), nil
}

// newFlags returns a command's flag set with the global flags.
func (e *env) newFlags(name string, connects bool) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// Errors are reported on one line by run; -h prints the flags (parse).
	fs.SetOutput(io.Discard)
	e.addGlobals(fs, connects)
	return fs
}

// parse parses a command's arguments, allowing flags after positional
// arguments ("history J --limit 5"), and returns the positional ones.
func (e *env) parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintf(e.stderr, "usage of tern-cli %s:\n", fs.Name())
				fs.SetOutput(e.stderr)
				fs.PrintDefaults()
				return nil, errHelp
			}
			return nil, usageError{fmt.Sprintf("%s: %v", fs.Name(), err)}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// close releases the store and the keyring.
func (e *env) close() error {
	var err error
	if e.db != nil {
		err = e.db.Close()
		e.db = nil
	}
	if e.key != nil {
		e.key.Destroy()
		e.key = nil
	}
	if e.kr != nil {
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		_ = e.kr.Close(ctx) // only waits for an abandoned call
		e.kr = nil
	}
	return err
}

// keyring returns the OS keyring (service $TERN_KEYRING_SERVICE).
func (e *env) keyring() *keyring.Keyring {
	if e.kr == nil {
		e.kr = keyring.New(keyring.Options{
			Service: e.getenv("TERN_KEYRING_SERVICE"),
			Timeout: keyringTimeout,
			Logger:  e.log,
		})
	}
	return e.kr
}

// dbPath returns the database path: --db, $TERN_DB or the default.
func (e *env) dbPath() (string, error) {
	if e.g.db != "" {
		return e.g.db, nil
	}
	p, err := sqlite.DefaultPath()
	if err != nil {
		return "", fmt.Errorf("database path: %w (give --db)", err)
	}
	return p, nil
}

// store opens the database with its data key (cmd/internal/profile): from
// the keyring (created on first use, described by the KeyInfo file next to
// the database), or derived from the passphrase — asked only when the
// profile needs one.
func (e *env) store(ctx context.Context) (*sqlite.DB, error) {
	if e.db != nil {
		return e.db, nil
	}
	path, err := e.dbPath()
	if err != nil {
		return nil, err
	}
	opts := profiles.Options{Path: path, Keyring: e.keyring(), Logger: e.log}
	db, key, err := profiles.Open(ctx, opts)
	if errors.Is(err, profiles.ErrNeedPassphrase) {
		pp, perr := e.passphrase()
		if perr != nil {
			return nil, fmt.Errorf("%w (%v)", perr, err)
		}
		opts.Passphrase = pp
		db, key, err = profiles.Open(ctx, opts)
		clear(pp)
	}
	if err != nil {
		return nil, err
	}
	e.db, e.key = db, key
	return db, nil
}

// passphrase returns the data key passphrase: the first line of standard
// input with --passphrase-stdin, else $TERN_PASSPHRASE.
func (e *env) passphrase() ([]byte, error) {
	if e.g.passphraseStdin {
		line, err := e.readLine()
		if err != nil || line == "" {
			return nil, usageError{"--passphrase-stdin: no passphrase on standard input"}
		}
		return []byte(line), nil
	}
	if p := e.getenv("TERN_PASSPHRASE"); p != "" {
		return []byte(p), nil
	}
	return nil, usageError{"the data key needs a passphrase: give --passphrase-stdin or set TERN_PASSPHRASE"}
}

// readLine reads one line of standard input, without its line ending.
func (e *env) readLine() (string, error) {
	line, err := e.stdin.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// terminal reports whether standard input is a terminal to prompt on.
func (e *env) terminal() bool {
	return e.stdinFile != nil && term.IsTerminal(int(e.stdinFile.Fd()))
}

// readPassword returns the password of addr from standard input
// (--password-stdin), or asks for it on the terminal.
func (e *env) readPassword(addr jid.JID) (string, error) {
	if e.g.passwordStdin {
		line, err := e.readLine()
		if err != nil || line == "" {
			return "", usageError{"--password-stdin: no password on standard input"}
		}
		return line, nil
	}
	if !e.terminal() {
		return "", usageError{"no terminal to ask the password on; use --password-stdin"}
	}
	fmt.Fprintf(e.stderr, "Password for %s: ", addr.Bare())
	pw, err := term.ReadPassword(int(e.stdinFile.Fd()))
	fmt.Fprintln(e.stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	return string(pw), nil
}

// password returns the password of a stored account: --password-stdin
// when given, else the keyring's, else asked on the terminal.
func (e *env) password(ctx context.Context, addr jid.JID) (string, error) {
	if e.g.passwordStdin {
		return e.readPassword(addr)
	}
	pw, err := e.keyring().Password(ctx, addr)
	if err == nil {
		return pw, nil
	}
	if !errors.Is(err, client.ErrNoPassword) && !errors.Is(err, client.ErrNoKeyring) {
		return "", fmt.Errorf("password of %s: %w", addr.Bare(), err)
	}
	if !e.terminal() {
		return "", usageError{fmt.Sprintf("no stored password for %s (%v); use --password-stdin", addr.Bare(), err)}
	}
	return e.readPassword(addr)
}

// tlsConfig returns the TLS configuration: the system's roots, or the CA
// file's.
func (e *env) tlsConfig() (*tls.Config, error) {
	cfg, err := profiles.TLSConfig(e.g.caFile)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	return cfg, nil
}

// sessionConfig returns the connection settings of addr.
func (e *env) sessionConfig(addr jid.JID, password, server string) (session.Config, error) {
	tlsCfg, err := e.tlsConfig()
	if err != nil {
		return session.Config{}, err
	}
	cfg := session.Config{JID: addr, Password: password, Server: server, TLS: tlsCfg, Logger: e.log}
	if e.g.console {
		cfg.Console = e.stderr
	}
	return cfg, nil
}

// account returns the stored account to use: --account (or $TERN_ACCOUNT),
// else the only one.
func (e *env) account(ctx context.Context, db *sqlite.DB) (client.Account, error) {
	var accts []client.Account
	err := db.View(ctx, func(tx client.Tx) error {
		var err error
		accts, err = tx.Accounts(ctx)
		return err
	})
	if err != nil {
		return client.Account{}, err
	}
	if e.g.account != "" {
		want, err := jid.Parse(e.g.account)
		if err != nil {
			return client.Account{}, usageError{fmt.Sprintf("--account: %v", err)}
		}
		for _, a := range accts {
			if a.JID == want.Bare() {
				return a, nil
			}
		}
		return client.Account{}, usageError{fmt.Sprintf("no account %s; add it with 'tern-cli account add'", want.Bare())}
	}
	switch len(accts) {
	case 0:
		return client.Account{}, usageError{"no account; add one with 'tern-cli account add'"}
	case 1:
		return accts[0], nil
	}
	return client.Account{}, usageError{"there are several accounts: choose one with --account"}
}

// parseJID parses a JID given on the command line.
func parseJID(what, s string) (jid.JID, error) {
	if s == "" {
		return jid.JID{}, usageError{what + " is required"}
	}
	j, err := jid.Parse(s)
	if err != nil {
		return jid.JID{}, usageError{fmt.Sprintf("%s: %v", what, err)}
	}
	return j, nil
}

// logLevel is the level of the diagnostics written to standard error:
// $TERN_LOG (debug, info, warn or error), else, and when it is not one of
// these, warn.
func logLevel(getenv func(string) string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(getenv("TERN_LOG"))); err != nil {
		return slog.LevelWarn
	}
	return l
}

// quietCancel drops log records about work cut short by a cancelled
// context: a command that is done stops the engine, and what was in flight
// then is not worth a warning.
type quietCancel struct{ slog.Handler }

func (h quietCancel) Handle(ctx context.Context, r slog.Record) error {
	cancelled := false
	r.Attrs(func(a slog.Attr) bool {
		if err, ok := a.Value.Any().(error); ok && errors.Is(err, context.Canceled) {
			cancelled = true
			return false
		}
		return true
	})
	if cancelled {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h quietCancel) WithAttrs(as []slog.Attr) slog.Handler {
	return quietCancel{h.Handler.WithAttrs(as)}
}

func (h quietCancel) WithGroup(name string) slog.Handler {
	return quietCancel{h.Handler.WithGroup(name)}
}
