// Command tern-cli is Tern's headless companion: the same engine as the
// desktop app, for scripts, diagnostics and benchmarks.
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

const usage = `usage: tern-cli <command> [flags]

commands:
  connect   connect to an account and print what was negotiated

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
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "connect":
		err = cmdConnect(ctx, args[1:], stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "tern-cli: unknown command %q\n%s", args[0], usage)
		return exitUsage
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
