package xmpptest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Kinds of Server.
const (
	KindProsody  = "prosody"
	KindEjabberd = "ejabberd"
)

// DefaultDomain is the XMPP domain served when Options.Domain is empty.
const DefaultDomain = "tern.test"

// Timeouts of the process management. Start timeouts are generous because
// the CI machine is shared; a healthy Prosody is ready in well under a
// second and a healthy ejabberd in about two.
const (
	prosodyStartTimeout  = 30 * time.Second
	ejabberdStartTimeout = 60 * time.Second
	stopTimeout          = 10 * time.Second
	probeTimeout         = 3 * time.Second
	startAttempts        = 3
)

// Options configures a server started by StartProsody or StartEjabberd.
// The zero value is a complete, sensible configuration.
type Options struct {
	// Domain is the XMPP domain of the single virtual host. Default
	// DefaultDomain. The MUC service is conference.<Domain> and the HTTP
	// upload service upload.<Domain>.
	Domain string
	// DisableMechanisms lists SASL mechanisms (e.g. "SCRAM-SHA-1-PLUS") the
	// server must not offer, to force a client onto another variant.
	DisableMechanisms []string
	// TLSMaxVersion caps the TLS version of every listener: 0 (or
	// tls.VersionTLS13) keeps the server default, tls.VersionTLS12 forces
	// TLS 1.2 (e.g. to test tls-unique channel binding).
	TLSMaxVersion uint16
	// CertNames are the names in the server certificate. Default: Domain,
	// conference.<Domain>, upload.<Domain> and pubsub.<Domain>. Set e.g.
	// {"other.example"} for a certificate that does not match Domain. The
	// certificate always also carries the IP SAN 127.0.0.1, which only the
	// loopback HTTPS listener (upload, admin API) is checked against.
	CertNames []string
	// CA signs the server certificate. Default NewCA(t). Pass a CA the
	// client does not trust to get an untrusted certificate.
	CA *CA
	// SMResumeTimeout is the XEP-0198 resumption window. Default 300 s;
	// rounded up to whole seconds.
	SMResumeTimeout time.Duration
	// SQLArchive (Prosody) keeps message archives in SQLite through
	// mod_storage_sql (Debian: lua-dbi-sqlite3), as large deployments do,
	// instead of the default file storage, which reads a user's whole
	// archive for every query.
	SQLArchive bool
}

// Server is a real XMPP server (Prosody or ejabberd) running as a child
// process on loopback with a private configuration, data and log directory
// under t.TempDir(). It has no s2s. Create it with StartProsody or
// StartEjabberd; it is stopped by t.Cleanup.
type Server struct {
	// Kind is KindProsody or KindEjabberd.
	Kind string
	// Domain is the XMPP domain the server serves.
	Domain string
	// CA is the authority that signed the server certificate.
	CA *CA

	opts     Options
	dir      string // private root: config, data, logs
	logFile  string // the server's own log
	outFile  string // stdout+stderr of the process
	certFile string
	keyFile  string
	leafDER  []byte // the served leaf certificate, to recognise our listener

	bin     string // prosody or erl
	ctlBin  string // prosodyctl (Prosody only)
	erlLibs string // ERL_LIBS (ejabberd only)

	c2sPort, tlsPort, httpsPort int

	mu      sync.Mutex // guards the fields below
	cmd     *exec.Cmd
	cancel  context.CancelFunc
	done    chan struct{} // closed when cmd has been waited for
	name    string        // software name, as XEP-0092 reports it
	version string        // software version, as XEP-0092 reports it
}

// errBindRace reports that the server could not bind one of the ports that
// were free a moment before; the start is retried with other ports.
var errBindRace = errors.New("xmpptest: port taken before the server could bind it")

// StartProsody starts a private Prosody (Debian 12: 0.12) and returns when
// both c2s ports answer with stream features. It calls t.Fatal on failure.
func StartProsody(t testing.TB, o Options) *Server {
	t.Helper()
	bin, err := exec.LookPath("prosody")
	if err != nil {
		t.Fatal("prosody not found: run `make deps` (Debian: apt-get install prosody)")
	}
	ctl, err := exec.LookPath("prosodyctl")
	if err != nil {
		t.Fatal("prosodyctl not found: run `make deps` (Debian: apt-get install prosody)")
	}
	s := newServer(t, KindProsody, o)
	s.bin, s.ctlBin = bin, ctl
	s.start(t)
	return s
}

// StartEjabberd starts a private ejabberd (Debian 12: 23.01) and returns when
// both c2s ports answer with stream features and the admin API on loopback
// answers. The Erlang VM runs without distribution (node nonode@nohost), so
// no epmd is started, no cookie is needed and any number of instances can
// run at once. It calls t.Fatal on failure.
func StartEjabberd(t testing.TB, o Options) *Server {
	t.Helper()
	erl, libs, err := findEjabberd()
	if err != nil {
		t.Fatalf("ejabberd not found: run `make deps` (Debian: apt-get install ejabberd): %v", err)
	}
	s := newServer(t, KindEjabberd, o)
	s.bin, s.erlLibs = erl, libs
	s.start(t)
	return s
}

func newServer(t testing.TB, kind string, o Options) *Server {
	t.Helper()
	if o.Domain == "" {
		o.Domain = DefaultDomain
	}
	if o.CA == nil {
		o.CA = NewCA(t)
	}
	if o.SMResumeTimeout <= 0 {
		o.SMResumeTimeout = 300 * time.Second
	}
	switch o.TLSMaxVersion {
	case 0, tls.VersionTLS12, tls.VersionTLS13:
	default:
		t.Fatalf("xmpptest: unsupported TLSMaxVersion %#x (use 0, tls.VersionTLS12 or tls.VersionTLS13)", o.TLSMaxVersion)
	}
	names := o.CertNames
	if len(names) == 0 {
		names = []string{o.Domain, "conference." + o.Domain, "upload." + o.Domain, "pubsub." + o.Domain}
	}
	names = append(append([]string(nil), names...), "127.0.0.1")

	dir := t.TempDir()
	// The directory tree must be traversable by the server whatever user
	// it ends up as; t.TempDir is 0700.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("xmpptest: %v", err)
	}
	for _, sub := range []string{"data", "log", "certs", "upload"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatalf("xmpptest: %v", err)
		}
	}
	s := &Server{
		Kind:    kind,
		Domain:  o.Domain,
		CA:      o.CA,
		opts:    o,
		dir:     dir,
		outFile: filepath.Join(dir, "log", "stdout.log"),
	}
	if kind == KindProsody {
		s.logFile = filepath.Join(dir, "log", "prosody.log")
	} else {
		s.logFile = filepath.Join(dir, "log", "ejabberd.log")
	}
	s.certFile, s.keyFile = o.CA.WriteLeaf(filepath.Join(dir, "certs"), names...)
	s.leafDER = firstCertDER(t, s.certFile)
	t.Cleanup(func() { s.Stop(t) })
	return s
}

// Addr returns the "127.0.0.1:port" address of the c2s listener that
// requires STARTTLS.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.c2sPort)) }

// DirectTLSAddr returns the "127.0.0.1:port" address of the XEP-0368 Direct
// TLS c2s listener.
func (s *Server) DirectTLSAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.tlsPort))
}

// HTTPSAddr returns the "127.0.0.1:port" address of the loopback HTTPS
// listener serving HTTP file upload (XEP-0363) and, for ejabberd, the admin
// API. Its certificate is valid for the IP 127.0.0.1.
func (s *Server) HTTPSAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.httpsPort))
}

// LogFile returns the path of the server's log (for debugging failed tests).
// The process's stdout and stderr are in "stdout.log" next to it.
func (s *Server) LogFile() string { return s.logFile }

// Software returns the server software name and version as XEP-0092
// (jabber:iq:version) reports them, e.g. ("Prosody", "0.12.3") or
// ("ejabberd", "23.01-1"). It is learnt from the server's log at start.
func (s *Server) Software() (name, version string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.name, s.version
}

// Stop stops the server gracefully: SIGTERM to its process group, then
// SIGKILL to the group if it has not exited after 10 s (logged). It waits
// until the process is gone, is idempotent and is registered with
// t.Cleanup.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	cmd, cancel, done := s.cmd, s.cancel, s.done
	s.cmd, s.cancel, s.done = nil, nil, nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	if err := stopProcess(cmd, cancel, done); err != nil {
		// Nothing is left running either way; a hung shutdown is worth
		// knowing when a later test misses data, not worth failing this one.
		t.Logf("xmpptest: stop %s: %v", s.Kind, err)
	}
}

// Restart stops the server and starts it again on the same ports with the
// same configuration and data (accounts, rosters, archives survive).
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop(t)
	if err := s.launch(t); err != nil {
		t.Fatalf("xmpptest: restart %s: %v\n%s", s.Kind, err, s.logTail())
	}
}

// CreateAccount registers local@Domain with password. The running server
// accepts the account immediately.
func (s *Server) CreateAccount(t testing.TB, local, password string) {
	t.Helper()
	var err error
	if s.Kind == KindProsody {
		err = s.prosodyRegister(local, password)
	} else {
		err = s.ejabberdRegister(local, password)
	}
	if err != nil {
		t.Fatalf("xmpptest: create account %s@%s on %s: %v", local, s.Domain, s.Kind, err)
	}
}

// start picks ports, writes the configuration and launches the server,
// retrying with fresh ports if another process took one of them meanwhile.
func (s *Server) start(t testing.TB) {
	t.Helper()
	var err error
	for range startAttempts {
		var ports []int
		ports, err = freePorts(3)
		if err != nil {
			t.Fatalf("xmpptest: %v", err)
		}
		s.c2sPort, s.tlsPort, s.httpsPort = ports[0], ports[1], ports[2]
		if s.Kind == KindProsody {
			err = s.writeProsodyConfig()
		} else {
			err = s.writeEjabberdConfig()
		}
		if err != nil {
			t.Fatalf("xmpptest: write %s config: %v", s.Kind, err)
		}
		err = s.launch(t)
		if err == nil {
			return
		}
		if !errors.Is(err, errBindRace) {
			break
		}
		t.Logf("xmpptest: %v; retrying with other ports", err)
	}
	t.Fatalf("xmpptest: start %s: %v\n%s", s.Kind, err, s.logTail())
}

// launch starts the process and waits until it is ready.
func (s *Server) launch(t testing.TB) error {
	t.Helper()
	out, err := os.OpenFile(s.outFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer out.Close() // the child has its own descriptor
	logStart, outStart := fileSize(s.logFile), fileSize(s.outFile)

	ctx, cancel := context.WithCancel(context.Background())
	var cmd *exec.Cmd
	if s.Kind == KindProsody {
		cmd = exec.CommandContext(ctx, s.bin, "--config", s.prosodyConfig(), "-F")
	} else {
		cmd = exec.CommandContext(ctx, s.bin,
			"-noinput", "+K", "true", "+P", "250000",
			"-env", "ERL_CRASH_DUMP_BYTES", "0",
			"-mnesia", "dir", strconv.Quote(filepath.Join(s.dir, "data")),
			"-s", "ejabberd")
		cmd.Env = append(os.Environ(),
			"EJABBERD_CONFIG_PATH="+s.ejabberdConfig(),
			"EJABBERD_LOG_PATH="+s.logFile,
			"ERL_LIBS="+s.erlLibs,
			"ERL_CRASH_DUMP="+filepath.Join(s.dir, "log", "erl_crash.dump"),
			"ERL_MAX_PORTS=32000",
			"ERL_MAX_ETS_TABLES=1400",
			"HOME="+s.dir,
		)
	}
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = out, out
	// Own process group, so that stopping reaches every helper process
	// (Erlang's erl_child_setup, inet_gethost); die with the test binary.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	began := time.Now()
	if err := cmd.Start(); err != nil {
		cancel()
		return err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait() // the exit status is read from cmd.ProcessState
		// Reap anything the server left in its group.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		close(done)
	}()
	s.mu.Lock()
	s.cmd, s.cancel, s.done = cmd, cancel, done
	s.mu.Unlock()

	timeout := prosodyStartTimeout
	if s.Kind == KindEjabberd {
		timeout = ejabberdStartTimeout
	}
	if err := s.waitReady(done, logStart, outStart, began.Add(timeout)); err != nil {
		s.Stop(t)
		return err
	}
	t.Logf("xmpptest: %s %s ready in %v (c2s %s, direct TLS %s, https %s, log %s)",
		s.Kind, s.Domain, time.Since(began).Round(time.Millisecond), s.Addr(), s.DirectTLSAddr(), s.HTTPSAddr(), s.logFile)
	return nil
}

// waitReady polls until both c2s listeners of this process answer a stream
// header with features, the HTTPS listener answers, and the software
// version is logged.
func (s *Server) waitReady(done <-chan struct{}, logStart, outStart int64, deadline time.Time) error {
	var last error
	for {
		select {
		case <-done:
			if err := s.bindFailure(logStart, outStart); err != nil {
				return err
			}
			return fmt.Errorf("server exited during start-up: %v (last probe: %v)", s.exitState(), last)
		default:
		}
		if err := s.bindFailure(logStart, outStart); err != nil {
			return err
		}
		last = s.probeAll(deadline)
		if last == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server not ready after %v: %w", time.Until(deadline)+probeTimeout, last)
		}
		select {
		case <-done:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *Server) probeAll(deadline time.Time) error {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if err := s.probeC2S(ctx, s.Addr(), false); err != nil {
		return fmt.Errorf("c2s STARTTLS %s: %w", s.Addr(), err)
	}
	if err := s.probeC2S(ctx, s.DirectTLSAddr(), true); err != nil {
		return fmt.Errorf("c2s Direct TLS %s: %w", s.DirectTLSAddr(), err)
	}
	if s.Kind == KindEjabberd {
		if _, err := s.api(ctx, "status", map[string]string{}); err != nil {
			return fmt.Errorf("admin API: %w", err)
		}
	} else {
		c, err := s.dialTLS(ctx, s.HTTPSAddr(), "")
		if err != nil {
			return fmt.Errorf("https %s: %w", s.HTTPSAddr(), err)
		}
		c.Close()
	}
	name, version, err := s.softwareFromLog()
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.name, s.version = name, version
	s.mu.Unlock()
	return nil
}

// tlsConfig accepts exactly the leaf this server was given, so that a probe
// can never mistake another process on a recycled port for ours.
func (s *Server) tlsConfig(serverName string) *tls.Config {
	leaf := s.leafDER
	return &tls.Config{
		ServerName:         serverName,
		InsecureSkipVerify: true, // replaced by the exact comparison below
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || !bytes.Equal(cs.PeerCertificates[0].Raw, leaf) {
				return errors.New("not our certificate")
			}
			return nil
		},
	}
}

func (s *Server) dialTLS(ctx context.Context, addr, serverName string) (*tls.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	d := tls.Dialer{Config: s.tlsConfig(serverName)}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return c.(*tls.Conn), nil
}

// probeC2S opens a c2s stream (RFC 6120 §4) and reads the stream features,
// doing STARTTLS first unless direct. It succeeds only when the features
// after TLS offer SASL mechanisms.
func (s *Server) probeC2S(ctx context.Context, addr string, direct bool) error {
	var conn net.Conn
	var err error
	if direct {
		conn, err = s.dialTLS(ctx, addr, s.Domain)
	} else {
		var d net.Dialer
		dctx, cancel := context.WithTimeout(ctx, probeTimeout)
		conn, err = d.DialContext(dctx, "tcp", addr)
		cancel()
	}
	if err != nil {
		return err
	}
	defer func() { conn.Close() }()
	if err := conn.SetDeadline(time.Now().Add(probeTimeout)); err != nil {
		return err
	}
	f, err := openStream(conn, s.Domain)
	if err != nil {
		return err
	}
	if !direct {
		if !f.StartTLS {
			return errors.New("no STARTTLS offered")
		}
		if _, err := conn.Write([]byte("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")); err != nil {
			return err
		}
		if err := expectElement(f.dec, "proceed"); err != nil {
			return err
		}
		tc := tls.Client(conn, s.tlsConfig(s.Domain))
		if err := tc.HandshakeContext(ctx); err != nil {
			return err
		}
		conn = tc
		if f, err = openStream(conn, s.Domain); err != nil {
			return err
		}
	}
	if len(f.Mechanisms) == 0 {
		return errors.New("no SASL mechanisms offered")
	}
	_, err = conn.Write([]byte("</stream:stream>"))
	return err
}

// probeFeatures is what a probe learns from <stream:features/>.
type probeFeatures struct {
	dec        *xml.Decoder
	StartTLS   bool
	Mechanisms []string
}

func openStream(conn net.Conn, domain string) (probeFeatures, error) {
	header := "<?xml version='1.0'?><stream:stream to='" + xmlEscape(domain) +
		"' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
	if _, err := conn.Write([]byte(header)); err != nil {
		return probeFeatures{}, err
	}
	dec := xml.NewDecoder(conn)
	tok, err := nextStart(dec)
	if err != nil {
		return probeFeatures{}, err
	}
	if tok.Name.Local != "stream" {
		return probeFeatures{}, fmt.Errorf("got <%s>, want <stream:stream>", tok.Name.Local)
	}
	tok, err = nextStart(dec)
	if err != nil {
		return probeFeatures{}, err
	}
	if tok.Name.Local != "features" {
		return probeFeatures{}, fmt.Errorf("got <%s>, want <stream:features>", tok.Name.Local)
	}
	var raw struct {
		StartTLS   *struct{} `xml:"urn:ietf:params:xml:ns:xmpp-tls starttls"`
		Mechanisms struct {
			List []string `xml:"mechanism"`
		} `xml:"urn:ietf:params:xml:ns:xmpp-sasl mechanisms"`
	}
	if err := dec.DecodeElement(&raw, &tok); err != nil {
		return probeFeatures{}, err
	}
	return probeFeatures{dec: dec, StartTLS: raw.StartTLS != nil, Mechanisms: raw.Mechanisms.List}, nil
}

func nextStart(dec *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := dec.Token()
		if err != nil {
			return xml.StartElement{}, err
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se, nil
		}
	}
}

func expectElement(dec *xml.Decoder, local string) error {
	se, err := nextStart(dec)
	if err != nil {
		return err
	}
	if se.Name.Local != local {
		return fmt.Errorf("got <%s>, want <%s>", se.Name.Local, local)
	}
	return nil
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // writing to a strings.Builder cannot fail
	return strings.ReplaceAll(b.String(), "'", "&apos;")
}

var (
	prosodyVersionRe  = regexp.MustCompile(`Prosody version (\S+)`)
	ejabberdVersionRe = regexp.MustCompile(`ejabberd (\S+) is started`)
)

func (s *Server) softwareFromLog() (name, version string, err error) {
	b, err := os.ReadFile(s.logFile)
	if err != nil {
		return "", "", err
	}
	re, name := prosodyVersionRe, "Prosody"
	if s.Kind == KindEjabberd {
		re, name = ejabberdVersionRe, "ejabberd"
	}
	m := re.FindAllSubmatch(b, -1)
	if len(m) == 0 {
		return "", "", errors.New("software version not logged yet")
	}
	return name, string(m[len(m)-1][1]), nil
}

// bindFailure reports errBindRace if the server logged, since this launch
// began, that it could not listen on one of its ports. Prosody logs "Failed
// to open server port" and keeps running; ejabberd logs eaddrinuse
// ("address already in use") and exits.
func (s *Server) bindFailure(logStart, outStart int64) error {
	b := readFrom(s.logFile, logStart)
	b = append(b, readFrom(s.outFile, outStart)...)
	b = bytes.ToLower(b)
	for _, marker := range []string{"failed to open server port", "eaddrinuse", "address already in use"} {
		if bytes.Contains(b, []byte(marker)) {
			return fmt.Errorf("%w (%s)", errBindRace, marker)
		}
	}
	return nil
}

func (s *Server) exitState() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil && s.cmd.ProcessState != nil {
		return s.cmd.ProcessState.String()
	}
	return "exited"
}

// logTail returns the last lines of the server log and of its stdout.
func (s *Server) logTail() string {
	return "--- " + s.logFile + " (tail) ---\n" + tail(s.logFile, 40) +
		"--- " + s.outFile + " (tail) ---\n" + tail(s.outFile, 20)
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error() + "\n"
	}
	lines := strings.SplitAfter(string(b), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}

func readFrom(path string, off int64) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	if _, err := f.Seek(off, 0); err != nil {
		return nil
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(bufio.NewReader(f))
	return buf.Bytes()
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// stopProcess sends SIGTERM to the process group, waits up to stopTimeout,
// then kills the group.
func stopProcess(cmd *exec.Cmd, cancel context.CancelFunc, done <-chan struct{}) error {
	defer cancel()
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	select {
	case <-done:
		return nil
	case <-time.After(stopTimeout):
	}
	cancel() // cmd.Cancel: SIGKILL to the group
	<-done
	return fmt.Errorf("did not exit within %v of SIGTERM; killed", stopTimeout)
}

// freePorts returns n distinct loopback TCP ports that were free a moment
// ago. They are held open together so that they differ.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
