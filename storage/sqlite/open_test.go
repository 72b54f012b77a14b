package sqlite_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/storage/sqlite"
)

func TestDefaultPathByPlatform(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	tests := []struct {
		goos string
		env  func(string) string
		want string // "" = an error
	}{
		{"linux", env("XDG_DATA_HOME", "/data", "HOME", "/home/r"), filepath.Join("/data", "tern", "tern.db")},
		{"linux", env("HOME", "/home/r"), filepath.Join("/home/r", ".local", "share", "tern", "tern.db")},
		{"linux", env("XDG_DATA_HOME", "relative/dir", "HOME", "/home/r"), filepath.Join("/home/r", ".local", "share", "tern", "tern.db")},
		{"linux", env(), ""},
		{"freebsd", env("XDG_DATA_HOME", "/xdg"), filepath.Join("/xdg", "tern", "tern.db")},
		{"darwin", env("HOME", "/Users/r", "XDG_DATA_HOME", "/ignored"), filepath.Join("/Users/r", "Library", "Application Support", "Tern", "tern.db")},
		{"darwin", env(), ""},
		{"windows", env("AppData", `C:\Users\r\AppData\Roaming`), filepath.Join(`C:\Users\r\AppData\Roaming`, "Tern", "tern.db")},
		{"windows", env("USERPROFILE", `C:\Users\r`), ""},
	}
	for _, tt := range tests {
		got, err := sqlite.DefaultPathFor(tt.goos, tt.env)
		if tt.want == "" {
			if err == nil {
				t.Errorf("%s: got %q, want an error", tt.goos, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: got %q, %v; want %q", tt.goos, got, err, tt.want)
		}
	}
}

func TestOpenSettings(t *testing.T) {
	e := newEnv(t)
	e.db.Close()
	r := raw(t, e.path)
	var mode string
	if err := r.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode %q, %v; want wal", mode, err)
	}
	var tables int
	if err := r.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'`).Scan(&tables); err != nil || tables != 1 {
		t.Errorf("schema_version table: %d, %v", tables, err)
	}
	// Foreign keys are on: a conversation needs an existing account.
	db := openAt(t, e.path, sqlite.Options{})
	err := db.Update(ctx(t), func(tx client.Tx) error {
		_, err := tx.EnsureConversation(ctx(t), 999, jid.MustParse("a@b.example"), client.KindChat)
		return err
	})
	mustErr(t, err, client.ErrNotFound)
	v, err := db.SchemaVersion(ctx(t))
	latest, _ := sqlite.LatestSchemaVersion()
	if err != nil || v != latest || latest < 3 {
		t.Errorf("schema version %d, %v; want %d", v, err, latest)
	}
}

func TestOpenRejectsBadPath(t *testing.T) {
	for _, p := range []string{"", filepath.Join(t.TempDir(), "what?.db")} {
		if _, err := sqlite.Open(ctx(t), p, sqlite.Options{}); !errors.Is(err, sqlite.ErrInvalid) {
			t.Errorf("Open(%q): %v, want ErrInvalid", p, err)
		}
	}
}

func TestViewIsReadOnly(t *testing.T) {
	e := newEnv(t)
	err := e.db.View(ctx(t), func(tx client.Tx) error {
		_, err := tx.PutAccount(ctx(t), client.Account{JID: jid.MustParse("x@y.example")})
		return err
	})
	mustErr(t, err, sqlite.ErrReadOnly)
	err = e.db.View(ctx(t), func(tx client.Tx) error {
		_, err := tx.InsertMessages(ctx(t), []client.Message{msg(1, "x@y.example", 1, "hi")})
		return err
	})
	mustErr(t, err, sqlite.ErrReadOnly)
}

func TestUpdateRollsBack(t *testing.T) {
	e := newEnv(t)
	boom := errors.New("boom")
	err := e.db.Update(ctx(t), func(tx client.Tx) error {
		if _, err := tx.PutAccount(ctx(t), client.Account{JID: jid.MustParse("gone@y.example")}); err != nil {
			return err
		}
		return boom
	})
	mustErr(t, err, boom)
	e.db.View(ctx(t), func(tx client.Tx) error {
		as, err := tx.Accounts(ctx(t))
		if err != nil || len(as) != 1 {
			t.Errorf("accounts after rollback: %v, %v", as, err)
		}
		return nil
	})
}

func TestLockedInSameProcess(t *testing.T) {
	e := newEnv(t)
	_, err := sqlite.Open(ctx(t), e.path, sqlite.Options{})
	mustErr(t, err, sqlite.ErrLocked)
	if !strings.Contains(err.Error(), "another Tern") {
		t.Errorf("message %q does not say another Tern has it", err)
	}
	// The first one still works, and closing it releases the lock.
	e.insert(msg(e.conv(e.acct, "juliet@capulet.example"), "juliet@capulet.example", 1, "still here"))
	e.db.Close()
	db := openAt(t, e.path, sqlite.Options{})
	db.Close()
}

// startChild runs this test binary as a child process in the given role.
func startChild(t *testing.T, role, path string, extraEnv ...string) (*exec.Cmd, io.WriteCloser, *lineReader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+role, pathEnv+"="+path)
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, stdin, &lineReader{r: bufio.NewReader(stdout)}
}

// lineReader reads complete lines: a line cut off by the writer's death,
// without its newline, is not returned.
type lineReader struct {
	r    *bufio.Reader
	line string
	err  error
}

func (l *lineReader) Scan() bool {
	s, err := l.r.ReadString('\n')
	if err != nil {
		l.err = err
		return false
	}
	l.line = strings.TrimSuffix(s, "\n")
	return true
}

func (l *lineReader) Text() string { return l.line }

func (l *lineReader) Err() error {
	if errors.Is(l.err, io.EOF) {
		return nil
	}
	return l.err
}

func TestLockedByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tern.db")
	cmd, stdin, out := startChild(t, "hold", path)
	defer cmd.Wait()
	defer stdin.Close()
	if !out.Scan() || out.Text() != "ready" {
		t.Fatalf("child: %q, %v", out.Text(), out.Err())
	}
	_, err := sqlite.Open(ctx(t), path, sqlite.Options{})
	mustErr(t, err, sqlite.ErrLocked)
	t.Logf("second Open: %v", err)
	// The first process keeps working.
	io.WriteString(stdin, "write\n")
	if !out.Scan() || !strings.HasPrefix(out.Text(), "ok ") {
		t.Fatalf("child after the failed Open: %q, %v", out.Text(), out.Err())
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	// Once it is gone, the database opens and has its message.
	db := openAt(t, path, sqlite.Options{})
	var n int
	db.View(ctx(t), func(tx client.Tx) error {
		p, err := tx.LatestPage(ctx(t), 1, 10)
		n = len(p)
		return err
	})
	if n != 1 {
		t.Errorf("%d messages after the child wrote one", n)
	}
}

// fileBytes returns the file's contents (nil if it does not exist).
func fileBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return b
}

// healthyFile returns the bytes of a real, closed database with data.
func healthyFile(t *testing.T) []byte {
	t.Helper()
	e := newEnv(t)
	c := e.conv(e.acct, "juliet@capulet.example")
	var ms []client.Message
	for i := range 300 {
		ms = append(ms, msg(c, "juliet@capulet.example", i, strings.Repeat("all the world's a stage ", 10)))
	}
	e.insert(ms...)
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	b := fileBytes(t, e.path)
	if len(b) < 16*4096 {
		t.Fatalf("database of %d bytes is too small for the test", len(b))
	}
	return b
}

func TestCorruptFileIsRefusedAndUntouched(t *testing.T) {
	healthy := healthyFile(t)
	garbage := make([]byte, 64<<10)
	rand.Read(garbage)
	damage := func(off int, junk []byte) []byte {
		b := bytes.Clone(healthy)
		copy(b[off:], junk)
		return b
	}
	badPageSize := bytes.Clone(healthy)
	badPageSize[16], badPageSize[17] = 0x03, 0x00 // 768: not a power of two
	tests := []struct {
		name string
		data []byte
	}{
		{"random bytes", garbage},
		{"text", []byte("these are my notes, not a database\n")},
		{"truncated header", healthy[:60]},
		{"bad page size", badPageSize},
		{"schema page overwritten", damage(100, garbage[:3000])},
		{"header zeroed", damage(0, make([]byte, 100))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tern.db")
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			db, err := sqlite.Open(ctx(t), path, sqlite.Options{})
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			mustErr(t, err, sqlite.ErrCorrupt)
			if !strings.Contains(err.Error(), path) {
				t.Errorf("the error %q does not name the file", err)
			}
			if !bytes.Equal(fileBytes(t, path), tt.data) {
				t.Error("Open changed the file")
			}
		})
	}
}

func TestDamagedDataPagesAreReported(t *testing.T) {
	healthy := healthyFile(t)
	path := filepath.Join(t.TempDir(), "tern.db")
	b := bytes.Clone(healthy)
	// Overwrite the last quarter of the pages, where the messages went
	// (the schema was written first), with a pattern SQLite cannot take
	// for a b-tree page.
	for off := (len(b) - len(b)/4) / 4096 * 4096; off < len(b); off++ {
		b[off] = 0xA5
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx(t), path, sqlite.Options{})
	if err != nil {
		// Acceptable if the damage reaches what Open reads; then the file
		// must be as it was.
		t.Logf("Open refused the file: %v", err)
		mustErr(t, err, sqlite.ErrCorrupt)
		if !bytes.Equal(fileBytes(t, path), b) {
			t.Error("Open changed the file")
		}
		return
	}
	defer db.Close()
	mustErr(t, db.IntegrityCheck(ctx(t)), sqlite.ErrCorrupt)
	_, err = db.LatestPage(ctx(t), 1, 300)
	mustErr(t, err, sqlite.ErrCorrupt)
}

func TestNewerSchemaIsRefusedAndUntouched(t *testing.T) {
	e := newEnv(t)
	e.db.Close()
	latest, err := sqlite.LatestSchemaVersion()
	if err != nil {
		t.Fatal(err)
	}
	r := raw(t, e.path)
	if _, err := r.Exec(`INSERT INTO schema_version (version, name, applied) VALUES (?, 'from the future', 0)`, latest+1); err != nil {
		t.Fatal(err)
	}
	r.Close()
	before := fileBytes(t, e.path)
	_, err = sqlite.Open(ctx(t), e.path, sqlite.Options{})
	mustErr(t, err, sqlite.ErrTooNew)
	if !strings.Contains(err.Error(), "newer version of Tern") {
		t.Errorf("unclear message %q", err)
	}
	if !bytes.Equal(fileBytes(t, e.path), before) {
		t.Error("Open changed the file")
	}
}

func TestForeignDatabaseIsRefusedAndUntouched(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	r := raw(t, path)
	if _, err := r.Exec(`CREATE TABLE recipes (name TEXT); INSERT INTO recipes VALUES ('bread')`); err != nil {
		t.Fatal(err)
	}
	r.Close()
	before := fileBytes(t, path)
	_, err := sqlite.Open(ctx(t), path, sqlite.Options{})
	mustErr(t, err, sqlite.ErrCorrupt)
	if !strings.Contains(err.Error(), "schema_version") {
		t.Errorf("unclear message %q", err)
	}
	if !bytes.Equal(fileBytes(t, path), before) {
		t.Error("Open changed the file")
	}
}

func TestEmptyFileIsANewDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tern.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	db := openAt(t, path, sqlite.Options{})
	if _, err := db.Conversations(ctx(t), 1); err != nil {
		t.Fatal(err)
	}
}
