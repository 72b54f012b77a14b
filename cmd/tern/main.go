// Command tern is Tern's desktop GUI, an XMPP (RFC 6120, RFC 6121) messenger
// on the Fyne toolkit. main only wires: flags → slog → the engine's sign-in
// (connect.go) → app.Run.
//
//	tern [-debug]
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	fyneapp "fyne.io/fyne/v2/app"

	"github.com/tern-im/tern/app"
)

// appID is Tern's reverse-DNS application ID, as in FyneApp.toml and the
// .desktop and AppStream files under packaging/.
const appID = "im.tern.Tern"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tern:", err)
		os.Exit(1)
	}
}

func run() error {
	debug := flag.Bool("debug", false, "log debug messages to standard error")
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}

	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	// Fyne's driver already quits on SIGINT and SIGTERM; a second handler
	// here would race its shutdown. Everything under ctx ends with Run.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	return app.Run(ctx, fyneapp.NewWithID(appID), app.Deps{
		Connect: connectOnce(log.With("component", "session")),
		Logger:  log.With("component", "app"),
	})
}
