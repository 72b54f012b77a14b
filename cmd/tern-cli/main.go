// Command tern-cli is Tern's headless companion: the same engine as the
// desktop app, for scripts, diagnostics and benchmarks.
//
// Run 'tern-cli help' for the commands, their flags and the environment
// variables they read.
//
// Exit status: 0 success; 1 an unexpected failure; 2 a usage error; 3 the
// server refused the credentials; 4 a TLS certificate problem; 5 the server
// could not be reached or the connection failed.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	exitAuth    = 3
	exitCert    = 4
	exitNetwork = 5
)

const usage = `usage: tern-cli [global flags] <command> [flags] [arguments]

commands:
  connect        connect to an account and print what was negotiated
  account add    --jid J [--server host:port] [--resource R] [--password-stdin]
                 verify the credentials by connecting once, then store the
                 account (settings in the database, password in the keyring)
  account list   [--json] list the stored accounts
  account remove J
                 delete an account, its history and its stored password
  send           --to J --body T [--account J] [--encryption E]
                 send a chat message through the outbox, wait until the
                 server acknowledged it (XEP-0198) and print its message id.
                 It is OMEMO encrypted (XEP-0384) when the conversation's
                 policy says so: by default when J publishes OMEMO devices;
                 --encryption required|disabled|default changes the
                 conversation's policy first. A message that must be
                 encrypted and cannot be fails; it never goes in plaintext
  listen         [--account J] print one JSON object per event until
                 interrupted (see "listen output" below); OMEMO messages
                 are decrypted ("encryption": "omemo", "sender_device",
                 "trust"); one that cannot be is a message with an empty
                 body and a "failure", and a decryption_failed event
  omemo fingerprint [--account J] [--json]
                 print our OMEMO device id and its fingerprint
  omemo uri      print our verification URI (xmpp:…?omemo-sid-…), as a QR
                 code would carry it
  omemo devices J [--offline] [--json]
                 fetch J's device list and bundles (J may be our own JID),
                 then print each device: id, active, trust, fingerprint
  omemo trust J FP
                 verify J's device whose fingerprint is FP (64 hex digits,
                 spaces allowed); once a device of J is verified, new
                 devices of J are not encrypted to until trusted
  omemo distrust J FP
                 never encrypt to J's device with fingerprint FP
  omemo verify URI
                 verify the devices a scanned verification URI names
  omemo remove-device ID
                 remove another device of ours from our device list
  roster         [--account J] [--offline] [--json] print the roster (synced
                 with the server first, unless --offline)
  history J      [--account J] [--before ID] [--limit N] [--json] print the
                 stored conversation with J, oldest first
  search QUERY   [--account J] [--limit N] [--json] full-text search of the
                 stored messages
  block J...     [--account J] block the JIDs (XEP-0191)
  unblock J...   [--account J] unblock the JIDs (XEP-0191)
  register       --jid J [--server host:port] [--password-stdin]
                 [--field name=value]... [--save]
                 create an account on the server (XEP-0077); the fields the
                 server asks for are taken from --field or asked on the
                 terminal; --save also stores it as with 'account add'
  help           print this text

global flags (before the command, or among the command's flags):
  --db PATH            the database (default: $TERN_DB, else the platform's
                       data directory, e.g. ~/.local/share/tern/tern.db); its
                       data key's description is kept in PATH.keyinfo
  --passphrase-stdin   read the data key passphrase from the first line of
                       standard input (only used when there is no keyring)
  --ca-file FILE       trust the CA certificates in this PEM file instead of
                       the system's (commands that connect; $TERN_CA_FILE)
  --password-stdin     read the account password from standard input (the
                       line after the passphrase) instead of the keyring
  --timeout D          give up on a command that connects after D (default 1m)
  --console            print the XML console (SASL redacted) to standard error

The data key that seals secrets in the database lives in the OS keyring and
is created on first use. Without a keyring it is derived from a passphrase:
--passphrase-stdin or $TERN_PASSPHRASE. Account passwords live in the keyring;
without one, give --password-stdin to every command that connects.

environment:
  TERN_DB               the database path (--db wins)
  TERN_ACCOUNT          the account to use when there are several (--account wins)
  TERN_CA_FILE          as --ca-file
  TERN_PASSPHRASE       the data key passphrase when there is no keyring
  TERN_KEYRING_SERVICE  the keyring service name (default im.tern.Tern)
  TERN_LOG              the level of the diagnostics on standard error: debug,
                        info, warn (default) or error; never bodies or secrets

listen output: one JSON object per line, with "event" (connecting, online,
offline, failed, acked, undelivered, stanza, roster, subscription_request,
subscription_request_removed, subscription, presence, presence_error, caps,
blocklist, avatar, message, message_queued, message_updated, chat_state,
headline, omemo_ready, omemo_devices, omemo_trust_needed, decryption_failed,
other), "account" and "at" (when it was printed, RFC 3339), plus the
event's fields.
Message bodies appear only in message, message_queued, message_updated (a
correction) and headline events.

Run 'tern-cli <command> -h' for the flags of a command.
Exit status: 0 ok, 1 failure, 2 usage, 3 credentials refused, 4 certificate problem, 5 network/server unreachable.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// usageError marks errors in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runEnv(ctx, os.Getenv, args, stdin, stdout, stderr)
}

// runEnv is run with the environment variables read through getenv.
func runEnv(ctx context.Context, getenv func(string) string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := newEnv(getenv, stdin, stdout, stderr)
	rest, err := e.parseGlobal(args)
	if err != nil {
		fmt.Fprintf(stderr, "tern-cli: %s\n", oneLine(err.Error()))
		return exitUsage
	}
	args = rest
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "connect":
		err = cmdConnect(ctx, args[1:], stdin, stdout, stderr)
	case "account":
		err = e.cmdAccount(ctx, args[1:])
	case "send":
		err = e.cmdSend(ctx, args[1:])
	case "listen":
		err = e.cmdListen(ctx, args[1:])
	case "roster":
		err = e.cmdRoster(ctx, args[1:])
	case "history":
		err = e.cmdHistory(ctx, args[1:])
	case "search":
		err = e.cmdSearch(ctx, args[1:])
	case "block":
		err = e.cmdBlock(ctx, args[1:], true)
	case "unblock":
		err = e.cmdBlock(ctx, args[1:], false)
	case "register":
		err = e.cmdRegister(ctx, args[1:])
	case "omemo":
		err = e.cmdOMEMO(ctx, args[1:])
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "tern-cli: unknown command %q\n%s", args[0], usage)
		return exitUsage
	}
	if cerr := e.close(); err == nil {
		err = cerr
	}
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	if !errors.Is(err, errHelp) {
		fmt.Fprintf(stderr, "tern-cli: %s\n", oneLine(err.Error()))
	}
	return code
}

// oneLine keeps an error message on one line.
func oneLine(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '\n' || r == '\r' {
			r = ' '
		}
		out = append(out, r)
	}
	return string(out)
}
