// Command tern is Tern's desktop GUI, an XMPP (RFC 6120, RFC 6121) messenger
// on the Fyne toolkit. main only wires: flags → slog → storage/keyring →
// storage/sqlite and the engines with OMEMO (crypto/omemo; backend.go) →
// app.Run.
//
//	tern [-debug] [-db FILE] [-ca-file FILE]
//
// The environment can set the same: TERN_DB (the database file; default
// the platform's data directory), TERN_CA_FILE (trust only the CA
// certificates of this PEM file instead of the system's: for test servers)
// and TERN_KEYRING_SERVICE (the keyring service name; default
// im.tern.Tern). Tern logs "screen shown" with the screen's name and the
// time since start when it shows a screen, and "screen drawn" when the
// window first paints it: timing markers for benchmarks (BENCHMARKS.md).
// For profiling, TERN_CPUPROFILE names a file for a CPU profile of the
// whole run and TERN_MEMPROFILE one for a heap profile taken when Tern
// quits (go tool pprof reads both).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	fyneapp "fyne.io/fyne/v2/app"
	"github.com/gen2brain/beeep"

	"github.com/tern-im/tern/app"
	"github.com/tern-im/tern/app/notify"
	"github.com/tern-im/tern/assets"
	"github.com/tern-im/tern/storage/keyring"
)

// appID is Tern's reverse-DNS application ID, as in FyneApp.toml and the
// .desktop and AppStream files under packaging/.
const appID = "im.tern.Tern"

// keyringTimeout bounds each keyring call: long enough to answer an unlock
// prompt.
const keyringTimeout = 2 * time.Minute

func main() {
	start := time.Now()
	stopProfiles, err := startProfiles(os.Getenv("TERN_CPUPROFILE"), os.Getenv("TERN_MEMPROFILE"))
	if err == nil {
		err = run(start)
		if perr := stopProfiles(); err == nil {
			err = perr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tern:", err)
		os.Exit(1)
	}
}

// startProfiles starts a CPU profile into cpuFile (when not empty) and
// returns the function that ends it and writes a heap profile into
// memFile (when not empty).
func startProfiles(cpuFile, memFile string) (stop func() error, err error) {
	var cpu *os.File
	if cpuFile != "" {
		if cpu, err = os.Create(cpuFile); err != nil {
			return nil, fmt.Errorf("CPU profile: %w", err)
		}
		if err := pprof.StartCPUProfile(cpu); err != nil {
			cpu.Close()
			return nil, fmt.Errorf("CPU profile: %w", err)
		}
	}
	return func() error {
		var errs []error
		if cpu != nil {
			pprof.StopCPUProfile()
			errs = append(errs, cpu.Close())
		}
		if memFile != "" {
			f, err := os.Create(memFile)
			if err == nil {
				runtime.GC() // the profile shows what is live
				err = errors.Join(pprof.WriteHeapProfile(f), f.Close())
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("heap profile: %w", err))
			}
		}
		return errors.Join(errs...)
	}, nil
}

func run(start time.Time) error {
	debug := flag.Bool("debug", false, "log debug messages to standard error")
	dbPath := flag.String("db", os.Getenv("TERN_DB"), "the database file (default: $TERN_DB, else the platform's data directory)")
	caFile := flag.String("ca-file", os.Getenv("TERN_CA_FILE"), "trust only the CA certificates in this PEM file (default: $TERN_CA_FILE, else the system's)")
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

	kr := keyring.New(keyring.Options{
		Service: os.Getenv("TERN_KEYRING_SERVICE"),
		Timeout: keyringTimeout,
		Logger:  log.With("component", "keyring"),
	})
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		_ = kr.Close(ctx) // only waits for an abandoned call
	}()
	cfg := config{dbPath: *dbPath, caFile: *caFile, kr: kr, log: log.With("component", "engine")}

	// The notification service names the sender application by this.
	beeep.AppName = "Tern"

	// Fyne's driver already quits on SIGINT and SIGTERM; a second handler
	// here would race its shutdown. Everything under ctx ends with Run.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	return app.Run(ctx, fyneapp.NewWithID(appID), app.Deps{
		Open: func(ctx context.Context, passphrase []byte) (app.Backend, error) {
			return openBackend(ctx, cfg, passphrase)
		},
		Notifier: notify.Beeep{Icon: assets.Icon},
		OnScreen: func(name string) {
			log.Info("screen shown", "screen", name, "since_start", time.Since(start))
		},
		OnDrawn: func(name string) {
			log.Info("screen drawn", "screen", name, "since_start", time.Since(start))
		},
		TrimMemory: trimMemory,
		TrayHost:   trayHost,
		Logger:     log.With("component", "app"),
	})
}
