package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/tern-im/tern/protocol/dial"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/sasl"
	"github.com/tern-im/tern/protocol/session"
	"github.com/tern-im/tern/protocol/version"
)

var errHelp = flag.ErrHelp

func cmdConnect(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("connect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	jidFlag := fs.String("jid", "", "account address (name@example.org[/resource])")
	server := fs.String("server", "", "connect to this host:port instead of looking the server up")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	caFile := fs.String("ca-file", "", "trust the CA certificates in this PEM file (instead of the system's)")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	console := fs.Bool("console", false, "print the XML console (SASL redacted) to standard error")
	mech := fs.String("mechanism", "", "allow only this SASL mechanism (diagnostics)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return usageError{err.Error()}
	}
	if *jidFlag == "" {
		return usageError{"connect: --jid is required"}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("connect: unexpected argument %q", fs.Arg(0))}
	}
	addr, err := jid.Parse(*jidFlag)
	if err != nil {
		return usageError{fmt.Sprintf("connect: %v", err)}
	}
	password, err := readPassword(*pwStdin, stdin, stderr, addr)
	if err != nil {
		return err
	}
	tlsCfg := &tls.Config{}
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile)
		if err != nil {
			return usageError{fmt.Sprintf("connect: read CA file: %v", err)}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return usageError{fmt.Sprintf("connect: %s contains no PEM certificate", *caFile)}
		}
		tlsCfg.RootCAs = pool
	}
	cfg := session.Config{
		JID: addr, Password: password, Server: *server, TLS: tlsCfg,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if *mech != "" {
		cfg.Mechanisms = []string{*mech}
	}
	if *console {
		cfg.Console = stderr
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	s, err := session.Dial(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer ccancel()
		_ = s.Close(cctx)
	}()
	info := s.Info()
	sw, verr := version.Query(ctx, s, addr.Domainpart())
	printInfo(stdout, info, sw, verr)
	return nil
}

func printInfo(w io.Writer, info session.Info, sw version.Info, verr error) {
	row := func(k, v string) { fmt.Fprintf(w, "%-16s %s\n", k+":", v) }
	row("address", info.JID.String())
	transport := "STARTTLS"
	if info.DirectTLS {
		transport = "Direct TLS (XEP-0368)"
	}
	row("server", info.Endpoint+" via "+transport)
	row("tls", info.TLSVersion()+", "+info.CipherSuite())
	row("sasl", info.Mechanism)
	cb := info.ChannelBinding
	if cb == "" {
		cb = "none"
	}
	row("channel binding", cb)
	sm := "off (the server does not offer it)"
	if info.SM {
		sm = "on"
		if info.Resumable {
			sm += ", resumable"
			if info.MaxResume > 0 {
				sm += fmt.Sprintf(" for %s", info.MaxResume)
			}
		}
	}
	row("stream mgmt", sm)
	row("resource", info.JID.Resource())
	if verr != nil {
		row("server software", "unknown ("+oneLine(verr.Error())+")")
	} else {
		s := strings.TrimSpace(sw.Name + " " + sw.Version)
		if sw.OS != "" {
			s += " on " + sw.OS
		}
		row("server software", s)
	}
}

// readPassword reads the password from stdin (--password-stdin) or asks for
// it on the terminal without echo.
func readPassword(fromStdin bool, stdin io.Reader, stderr io.Writer, addr jid.JID) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			return "", usageError{"connect: --password-stdin: no password on standard input"}
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	f, ok := stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", usageError{"connect: no terminal to ask the password on; use --password-stdin"}
	}
	fmt.Fprintf(stderr, "Password for %s: ", addr.Bare())
	pw, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	return string(pw), nil
}

// exitCode maps an error to the documented exit status.
func exitCode(err error) int {
	var ue usageError
	var f *sasl.Failure
	var ce *dial.CertificateError
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.Is(err, errHelp):
		return exitUsage
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &f):
		return exitAuth
	case errors.As(err, &ce):
		return exitCert
	case errors.As(err, &oe), errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, session.ErrConnectionClosed), errors.Is(err, session.ErrTimeout):
		return exitNetwork
	}
	return exitFailure
}
