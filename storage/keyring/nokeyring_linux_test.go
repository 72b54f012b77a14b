package keyring_test

// The no-keyring paths against the real backend: the test binary runs again
// as a child process (see TestMain) in an environment without a usable
// keyring, which a test cannot build inside its own process because the
// session bus is chosen once per process. Each scenario prints what it
// checked and exits 1 on the first failed check.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	dbus "github.com/godbus/dbus/v5"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/storage/keyring"
	"github.com/tern-im/tern/storage/keyring/keyringtest"
)

// Secrets the scenarios use; the parent searches the child's log and
// output for them.
const (
	childPassword   = "child-password-that-must-stay-secret"
	childPassphrase = "child passphrase, long and secret"
)

// childDirEnv names a directory for the child's files.
const childDirEnv = "TERN_KEYRING_TEST_DIR"

// runChild runs one scenario and returns the exit status.
func runChild(scenario string) int {
	c := &child{dir: os.Getenv(childDirEnv)}
	logFile, err := os.Create(filepath.Join(c.dir, "child.log"))
	if err != nil {
		fmt.Println("FAIL create log:", err)
		return 1
	}
	defer logFile.Close()
	c.log = slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelDebug}))
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(childFailure); !ok {
				panic(r)
			}
		}
	}()
	switch scenario {
	case "dead-socket":
		c.noBus()
	case "no-address":
		c.noAddress()
	case "no-service":
		c.noService()
	case "locked":
		c.locked()
	case "prompt":
		c.prompt()
	default:
		fmt.Println("FAIL unknown scenario", scenario)
		return 1
	}
	if c.failed {
		return 1
	}
	fmt.Println("PASS")
	return 0
}

type child struct {
	dir    string
	log    *slog.Logger
	failed bool
}

type childFailure struct{}

// fatalf reports a failed check and ends the scenario.
func (c *child) fatalf(format string, args ...any) {
	fmt.Printf("FAIL "+format+"\n", args...)
	c.failed = true
	panic(childFailure{})
}

func (c *child) okf(format string, args ...any) { fmt.Printf("ok   "+format+"\n", args...) }

func (c *child) keyring() *keyring.Keyring {
	return keyring.New(keyring.Options{Service: testService(), Logger: c.log})
}

// expectUnavailable checks that err is an *UnavailableError with reason r
// that also matches client.ErrNoKeyring and carries the user message.
func (c *child) expectUnavailable(what string, err error, r keyring.Reason) {
	ue, ok := errors.AsType[*keyring.UnavailableError](err)
	if !ok || ue.Reason != r || !errors.Is(err, keyring.ErrUnavailable) || !errors.Is(err, client.ErrNoKeyring) {
		c.fatalf("%s: %s; want unavailable with reason %q", what, describe(err), r)
	}
	if ue.Err == nil {
		c.fatalf("%s: no cause recorded", what)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "No system keyring is available ("+r.String()+");") ||
		!strings.Contains(msg, "Tern will ask for your password at sign-in and protect your keys with a passphrase") {
		c.fatalf("%s: message %q is not the user message", what, msg)
	}
	c.okf("%s: %s", what, describe(err))
}

// noKeyringFlow is what Tern does without a keyring: every keyring call
// reports it, and the data key comes from a passphrase.
func (c *child) noKeyringFlow(r keyring.Reason) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	k := c.keyring()
	_, err := k.Password(ctx, alice)
	c.expectUnavailable("Password", err, r)
	c.expectUnavailable("SetPassword", k.SetPassword(ctx, alice, childPassword), r)
	c.expectUnavailable("DeletePassword", k.DeletePassword(ctx, alice), r)
	_, _, err = k.CreateDataKey(ctx)
	c.expectUnavailable("CreateDataKey", err, r)

	// A profile whose key is in the keyring cannot fall back to a
	// passphrase: the message says so.
	_, err = k.OpenDataKey(ctx, keyring.KeyInfo{Source: keyring.SourceKeyring, Entry: "Tern data key 0011223344556677", Check: make([]byte, 32)})
	if ue, ok := errors.AsType[*keyring.UnavailableError](err); !ok || !ue.DataKey || ue.Reason != r ||
		!strings.Contains(err.Error(), "unlock or start the keyring") {
		c.fatalf("OpenDataKey without keyring: %s; want unavailable for a data key", describe(err))
	}
	c.okf("OpenDataKey: %v", err)

	// The passphrase path, with the KeyInfo in a file as the caller keeps it.
	path := filepath.Join(c.dir, "keyinfo.json")
	// The cheapest cost keeps the three scenarios fast (with -race
	// especially); TestPassphraseDefaultCost covers the default.
	dk, info, err := keyring.CreatePassphraseKey([]byte(childPassphrase), cheap)
	if err != nil {
		c.fatalf("CreatePassphraseKey: %v", err)
	}
	ad := []byte("omemo_identity/alice@example.org")
	sealed, err := dk.Seal([]byte("identity private key"), ad)
	if err != nil {
		c.fatalf("Seal: %v", err)
	}
	if err := keyring.CreateKeyInfoFile(path, info); err != nil {
		c.fatalf("CreateKeyInfoFile: %v", err)
	}
	read, err := keyring.ReadKeyInfoFile(path)
	if err != nil {
		c.fatalf("ReadKeyInfoFile: %v", err)
	}
	if _, err := keyring.OpenPassphraseKey([]byte(childPassphrase+"!"), read); !errors.Is(err, keyring.ErrWrongPassphrase) {
		c.fatalf("wrong passphrase: %v", err)
	}
	dk2, err := keyring.OpenPassphraseKey([]byte(childPassphrase), read)
	if err != nil {
		c.fatalf("OpenPassphraseKey: %v", err)
	}
	if got, err := dk2.Open(sealed, ad); err != nil || string(got) != "identity private key" {
		c.fatalf("Open after reopening with the passphrase: %q, %v", got, err)
	}
	c.okf("passphrase key: created, persisted, wrong passphrase refused, reopened")
	if err := k.Close(ctx); err != nil {
		c.fatalf("Close: %v", err)
	}
}

func (c *child) noBus()     { c.noKeyringFlow(keyring.NoBus) }
func (c *child) noAddress() { c.noKeyringFlow(keyring.NoBus) }
func (c *child) noService() { c.noKeyringFlow(keyring.NoService) }

// lockCollection stores a password, then locks the default collection.
func (c *child) lockCollection(ctx context.Context, k *keyring.Keyring) {
	if err := k.SetPassword(ctx, alice, childPassword); err != nil {
		c.fatalf("SetPassword while unlocked: %s", describe(err))
	}
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		c.fatalf("connect: %v", err)
	}
	defer conn.Close()
	var locked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	err = conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets").
		CallWithContext(ctx, "org.freedesktop.Secret.Service.Lock", 0, []dbus.ObjectPath{"/org/freedesktop/secrets/aliases/default"}).
		Store(&locked, &prompt)
	if err != nil || len(locked) != 1 || prompt != "/" {
		c.fatalf("Lock: %v %v %v", locked, prompt, err)
	}
	c.okf("stored a password, then locked the keyring")
}

// locked: no prompter can run (no display), so unlocking fails at once.
func (c *child) locked() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	k := c.keyring()
	c.lockCollection(ctx, k)
	_, err := k.Password(ctx, alice)
	c.expectUnavailable("Password from a locked keyring", err, keyring.Locked)
	c.expectUnavailable("SetPassword into a locked keyring", k.SetPassword(ctx, bob, childPassword), keyring.Locked)
	if err := k.Close(ctx); err != nil {
		c.fatalf("Close: %v", err)
	}
}

// prompt: with a display, gnome-keyring shows an unlock prompt that nobody
// answers, and go-keyring waits for it forever. The Keyring returns when
// the context ends.
func (c *child) prompt() {
	setup, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	k := c.keyring()
	c.lockCollection(setup, k)

	ctx, cancel2 := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel2()
	start := time.Now()
	_, err := k.Password(ctx, alice)
	elapsed := time.Since(start)
	if elapsed > 10*time.Second {
		c.fatalf("Password took %v with a 3 s context", elapsed)
	}
	if reasonOf(err) == keyring.Locked {
		// No prompter could be shown after all (gcr-prompter missing or
		// failing): then the call fails at once, which is as good.
		c.expectUnavailable("Password from a locked keyring (no prompter)", err, keyring.Locked)
		return
	}
	c.expectUnavailable("Password while a prompt waits", err, keyring.Timeout)
	if !errors.Is(err, context.DeadlineExceeded) {
		c.fatalf("timeout does not match context.DeadlineExceeded: %v", err)
	}
	// The abandoned call still waits on the prompt: the next call waits
	// for its turn within its own context, and Close gives up at its.
	short, cancel3 := context.WithTimeout(context.Background(), time.Second)
	defer cancel3()
	_, err = k.Password(short, bob)
	c.expectUnavailable("Password while the previous call waits", err, keyring.Timeout)
	closing, cancel4 := context.WithTimeout(context.Background(), time.Second)
	defer cancel4()
	if err := k.Close(closing); !errors.Is(err, context.DeadlineExceeded) {
		c.fatalf("Close while a call waits on a prompt: %v, want DeadlineExceeded", err)
	}
	c.okf("Close reports the call still waiting on the prompt")
}

// childResult runs a scenario in a child process with env, and fails t
// unless it passes. It then checks the child's log and output for secrets.
func childResult(t *testing.T, scenario string, env []string, wrap ...string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	args := append(append([]string{}, wrap...), self, "-test.run=^$")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(env, childEnv+"="+scenario, childDirEnv+"="+dir)
	// Its own process group: whatever the scenario starts is stopped with
	// it (see the Cleanup below).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(2 * time.Minute):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		t.Fatalf("scenario %s hung; output:\n%s", scenario, out.Bytes())
	}
	t.Logf("scenario %s:\n%s", scenario, out.Bytes())
	if err != nil || !bytes.Contains(out.Bytes(), []byte("\nPASS\n")) {
		t.Fatalf("scenario %s failed: %v", scenario, err)
	}
	outPath := filepath.Join(dir, "child.out")
	if err := os.WriteFile(outPath, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	keyringtest.AssertNoSecrets(t, []string{outPath, filepath.Join(dir, "child.log")},
		[][]byte{[]byte(childPassword), []byte(childPassphrase)})
}

// baseEnv is the environment without any session bus or display.
func baseEnv(t *testing.T) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR", "XDG_DATA_HOME",
			"GNOME_KEYRING_CONTROL", childEnv, childDirEnv:
			continue
		}
		env = append(env, kv)
	}
	run := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(run, 0o700); err != nil {
		t.Fatal(err)
	}
	return append(env, "XDG_RUNTIME_DIR="+run, "XDG_DATA_HOME="+t.TempDir())
}

// need fails t unless the programs are installed.
func need(t *testing.T, programs ...string) {
	t.Helper()
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("%s is not installed (run make deps): %v", p, err)
		}
	}
}

// gnomeKeyring wraps a child in a private session bus with an unlocked
// gnome-keyring-daemon of its own, so that locking it affects no other test.
func gnomeKeyring(t *testing.T) []string {
	need(t, "dbus-run-session", "gnome-keyring-daemon")
	return []string{"dbus-run-session", "--", "sh", "-c",
		`printf %s child-keyring | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1 && exec "$@"`, "sh"}
}

func TestNoKeyring(t *testing.T) {
	t.Run("DeadSocket", func(t *testing.T) {
		// A socket file with nobody listening: connection refused.
		sock := filepath.Join(t.TempDir(), "bus")
		l, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		l.(*net.UnixListener).SetUnlinkOnClose(false)
		l.Close()
		childResult(t, "dead-socket", append(baseEnv(t), "DBUS_SESSION_BUS_ADDRESS=unix:path="+sock))
	})
	t.Run("NoAddress", func(t *testing.T) {
		// No address at all. godbus would then look for
		// /run/user/UID/bus and, failing that, run dbus-launch, which
		// starts a bus daemon nobody stops: the Keyring must not let it.
		sock := fmt.Sprintf("/run/user/%d/bus", os.Getuid())
		if _, err := os.Stat(sock); !errors.Is(err, fs.ErrNotExist) {
			msg := fmt.Sprintf("this machine has a session bus socket at %s, which godbus uses when no address is set, "+
				"so there is no way to run without a bus here (stat: %v)", sock, err)
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Log(msg + "; not in CI, so DeadSocket alone covers the missing bus")
			return
		}
		bin := t.TempDir()
		marker := filepath.Join(t.TempDir(), "dbus-launch-ran")
		script := "#!/bin/sh\ntouch '" + marker + "'\nexit 1\n"
		if err := os.WriteFile(filepath.Join(bin, "dbus-launch"), []byte(script), 0o700); err != nil {
			t.Fatal(err)
		}
		env := baseEnv(t)
		for i, kv := range env {
			if path, ok := strings.CutPrefix(kv, "PATH="); ok {
				env[i] = "PATH=" + bin + string(os.PathListSeparator) + path
			}
		}
		childResult(t, "no-address", env)
		if _, err := os.Stat(marker); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the Keyring ran dbus-launch (stat of its marker: %v)", err)
		}
	})
	t.Run("NoSecretService", func(t *testing.T) {
		need(t, "dbus-run-session")
		// A session bus with no service files: nothing provides
		// org.freedesktop.secrets.
		dir := t.TempDir()
		conf := filepath.Join(dir, "session.conf")
		err := os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=`+dir+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`), 0o600)
		if err != nil {
			t.Fatal(err)
		}
		childResult(t, "no-service", baseEnv(t), "dbus-run-session", "--config-file="+conf, "--")
	})
	t.Run("Locked", func(t *testing.T) {
		childResult(t, "locked", baseEnv(t), gnomeKeyring(t)...)
	})
	t.Run("UnansweredPrompt", func(t *testing.T) {
		display := os.Getenv("DISPLAY")
		if display == "" {
			t.Fatalf("DISPLAY is not set: an unlock prompt needs a display; %s", keyringtest.Hint)
		}
		childResult(t, "prompt", append(baseEnv(t), "DISPLAY="+display), gnomeKeyring(t)...)
	})
}
