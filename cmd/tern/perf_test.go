package main

// The GUI performance measurements of issue 7 (BENCHMARKS.md, "GUI"):
// the real Tern binary against a bare Fyne window (internal/bare) built
// with the same toolchain, in the same run, under Xvfb with a private
// D-Bus session and keyring (scripts/testenv.sh), signed in to a private
// Prosody with a 500-contact roster and 100,000 stored messages:
//
//	go test ./cmd/tern/ -run '^$' -bench BenchmarkGUI -benchtime 1x
//
// Outside the test environment the benchmark runs itself again under
// scripts/testenv.sh. It fails when a target of the issue is missed.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tern-im/tern/cmd/internal/profile"
	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/xmpptest"
	"github.com/tern-im/tern/storage/keyring"
)

// The account the measurements use.
const (
	perfContacts      = 500     // roster items on the server
	perfConversations = 100     // conversations in the store, with…
	perfMessages      = 100_000 // …this many messages in all
	perfStarts        = 5       // starts of each program for the start-up times (median)
)

// The targets of issue 7.
const (
	targetListOverBare = 100 * time.Millisecond // exec → conversation list drawn, over bare exec → drawn
	targetOnline       = 500 * time.Millisecond // exec → online
	targetRSSOverBare  = 40 << 20               // RSS 30 s after login, over the bare window's
	targetIdleCPU      = 1.0                    // % of a core, window open, idle
	rssAfter           = 30 * time.Second
	cpuWindow          = 10 * time.Second
)

func BenchmarkGUI(b *testing.B) {
	if !inTestEnv() {
		if os.Getenv("TERN_E2E_CHILD") != "" {
			b.Fatal("scripts/testenv.sh gave no DISPLAY or session bus")
		}
		rerunInTestEnv(b)
		return
	}
	needTools(b, "prosody")
	ternBin := buildBinary(b, ".", "tern")
	bareBin := buildBinary(b, "./internal/bare", "bare")

	srv := xmpptest.StartProsody(b, xmpptest.Options{})
	srv.CreateAccount(b, "alice", "alice-secret")
	alice := jid.MustParse("alice@" + srv.Domain)
	addRoster(b, srv, perfContacts)

	home := b.TempDir()
	dbPath := filepath.Join(home, "tern.db")
	service := "im.tern.Tern.perf." + strconv.FormatInt(time.Now().UnixNano(), 36)
	fillStore(b, dbPath, service, alice, srv, perfConversations, perfMessages)
	env := []string{
		"TERN_DB=" + dbPath,
		"TERN_CA_FILE=" + srv.CA.File(),
		"TERN_KEYRING_SERVICE=" + service,
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
	}

	// The first start fetches the whole roster (no roster version stored
	// yet); later ones are the everyday start.
	first := startTern(b, ternBin, env)
	firstOnline := first.waitLine("account online").at.Sub(first.start)
	firstRoster := first.waitLine("roster loaded").at.Sub(first.start)
	first.quit()
	b.Logf("first start (whole roster fetched): online %s, roster loaded %s", ms(firstOnline), ms(firstRoster))

	var bareDrawn, ternDrawn, ternOnline []time.Duration
	for range perfStarts {
		p := startBare(b, bareBin)
		bareDrawn = append(bareDrawn, p.waitLine("drawn").at.Sub(p.start))
		p.quit()
		p = startTern(b, ternBin, env)
		ternDrawn = append(ternDrawn, p.waitLine("screen drawn", "screen=main").at.Sub(p.start))
		ternOnline = append(ternOnline, p.waitLine("account online").at.Sub(p.start))
		p.quit()
	}

	// Memory and idle CPU: both programs side by side, measured at the
	// same moments.
	bare := startBare(b, bareBin)
	bare.waitLine("drawn")
	tern := startTern(b, ternBin, env)
	tern.waitLine("account online")
	<-time.After(rssAfter)
	bareRSS, ternRSS := rss(b, bare), rss(b, tern)
	bareCPU, ternCPU := idleCPU(b, cpuWindow, bare, tern)
	tern.quit()
	bare.quit()

	medBare, medDrawn, medOnline := median(bareDrawn), median(ternDrawn), median(ternOnline)
	b.Logf("bare window: exec → drawn %s (runs %s)", ms(medBare), mss(bareDrawn))
	b.Logf("tern: exec → conversation list drawn %s (runs %s), target ≤ %s", ms(medDrawn), mss(ternDrawn), ms(medBare+targetListOverBare))
	b.Logf("tern: exec → online %s (runs %s), target ≤ %s", ms(medOnline), mss(ternOnline), ms(targetOnline))
	b.Logf("RSS %s after login: tern %.1f MiB, bare %.1f MiB (+%.1f MiB), target ≤ bare + %d MiB",
		rssAfter, mib(ternRSS), mib(bareRSS), mib(ternRSS-bareRSS), targetRSSOverBare>>20)
	b.Logf("idle CPU over %s: tern %.2f%%, bare %.2f%% of a core, target ≤ %.0f%%", cpuWindow, ternCPU, bareCPU, targetIdleCPU)

	b.ReportMetric(float64(medBare.Milliseconds()), "bare-drawn-ms")
	b.ReportMetric(float64(medDrawn.Milliseconds()), "list-drawn-ms")
	b.ReportMetric(float64(medOnline.Milliseconds()), "online-ms")
	b.ReportMetric(float64(firstOnline.Milliseconds()), "first-online-ms")
	b.ReportMetric(mib(bareRSS), "bare-RSS-MiB")
	b.ReportMetric(mib(ternRSS), "RSS-MiB")
	b.ReportMetric(bareCPU, "bare-idle-CPU-%")
	b.ReportMetric(ternCPU, "idle-CPU-%")

	if medDrawn > medBare+targetListOverBare {
		b.Errorf("conversation list drawn %s after exec, more than the bare window's %s + %s", ms(medDrawn), ms(medBare), ms(targetListOverBare))
	}
	if medOnline > targetOnline {
		b.Errorf("online %s after exec, target %s", ms(medOnline), ms(targetOnline))
	}
	if ternRSS > bareRSS+targetRSSOverBare {
		b.Errorf("RSS %.1f MiB, more than the bare window's %.1f MiB + %d MiB", mib(ternRSS), mib(bareRSS), targetRSSOverBare>>20)
	}
	if ternCPU > targetIdleCPU {
		b.Errorf("idle CPU %.2f%% of a core, target %.0f%%", ternCPU, targetIdleCPU)
	}
}

// startBare starts the bare window.
func startBare(b *testing.B, bin string) *proc {
	b.Helper()
	return startTern(b, bin, nil)
}

// addRoster puts n contacts on alice's roster on the server, in groups of
// 50, through an engine of her own that disconnects before Tern starts.
func addRoster(b *testing.B, srv *xmpptest.Server, n int) {
	b.Helper()
	p := startPeer(b, srv, "alice", "alice-secret", false)
	defer p.stop()
	ctx, cancel := context.WithTimeout(b.Context(), 2*time.Minute)
	defer cancel()
	const workers = 8
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				c := jid.MustParse(fmt.Sprintf("contact%03d@%s", i, srv.Domain))
				if err := p.c.AddContact(ctx, c, fmt.Sprintf("Contact %d", i), []string{fmt.Sprintf("Group %d", i/50)}); err != nil {
					errs <- fmt.Errorf("add %s: %w", c, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// fillStore creates Tern's database as Tern does (data key in the
// keyring), stores alice's account with its password, and inserts total
// messages spread over convs conversations with her contacts, as an
// archive import would.
func fillStore(b *testing.B, dbPath, service string, alice jid.JID, srv *xmpptest.Server, convs, total int) {
	b.Helper()
	ctx := b.Context()
	kr := keyring.New(keyring.Options{Service: service})
	defer kr.Close(ctx)
	db, key, err := profile.Open(ctx, profile.Options{Path: dbPath, Keyring: kr})
	if err != nil {
		b.Fatalf("create tern's database: %v", err)
	}
	defer key.Destroy()
	defer db.Close()
	a, stored, err := profile.StoreAccount(ctx, db, kr, client.Account{JID: alice, Server: srv.Addr(), Enabled: true}, "alice-secret")
	if err != nil || !stored {
		b.Fatalf("store the account (password in the keyring: %v): %v", stored, err)
	}
	ids := make([]client.ConversationID, convs)
	peers := make([]jid.JID, convs)
	if err := db.Update(ctx, func(tx client.Tx) error {
		for i := range convs {
			peers[i] = jid.MustParse(fmt.Sprintf("contact%03d@%s", i, srv.Domain))
			var err error
			if ids[i], err = tx.EnsureConversation(ctx, a.ID, peers[i], client.KindChat); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	words := strings.Fields("wherefore art thou romeo deny thy father and refuse thy name or if thou wilt not be but sworn my love")
	t0 := time.Now().Add(-time.Duration(total) * time.Minute)
	per := total / convs
	const batch = 10_000
	msgs := make([]client.Message, 0, batch)
	for i := range total {
		c := i / per
		dir, sender := client.Inbound, peers[c].String()
		if i%3 == 0 {
			dir, sender = client.Outbound, alice.String()
		}
		n := 3 + i%17
		m := client.Message{Conversation: ids[c], Direction: dir, Type: client.TypeChat, Sender: sender,
			OriginID: fmt.Sprintf("perf-%d", i), Body: strings.Join(words[i%5:min(len(words), i%5+n)], " "),
			Sent: t0.Add(time.Duration(i) * time.Minute)}
		if dir == client.Outbound {
			m.State = client.StateRead
		}
		msgs = append(msgs, m)
		if len(msgs) == batch || i == total-1 {
			if _, err := db.InsertMessages(ctx, msgs); err != nil {
				b.Fatal(err)
			}
			msgs = msgs[:0]
		}
	}
}

// rss returns the resident set size of a running program.
func rss(b *testing.B, p *proc) int64 {
	b.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				b.Fatalf("VmRSS %q: %v", v, err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmRSS in /proc/PID/status")
	return 0
}

// cpuTicks returns the user and system CPU time of a program so far, in
// clock ticks (/proc/PID/stat fields 14 and 15).
func cpuTicks(b *testing.B, p *proc) int64 {
	b.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	// The command name (field 2) may hold spaces: count after its ')'.
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("/proc/PID/stat: %q", s)
	}
	return utime + stime
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times (100 on
// Linux for every architecture Tern supports).
const clockTicks = 100

// idleCPU returns the CPU use of each program over d, in percent of a
// core.
func idleCPU(b *testing.B, d time.Duration, ps ...*proc) (bare, tern float64) {
	b.Helper()
	before := make([]int64, len(ps))
	for i, p := range ps {
		before[i] = cpuTicks(b, p)
	}
	start := time.Now()
	<-time.After(d)
	elapsed := time.Since(start).Seconds()
	out := make([]float64, len(ps))
	for i, p := range ps {
		out[i] = float64(cpuTicks(b, p)-before[i]) / clockTicks / elapsed * 100
	}
	return out[0], out[1]
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%d ms", d.Milliseconds()) }

func mss(ds []time.Duration) string {
	var out []string
	for _, d := range ds {
		out = append(out, strconv.FormatInt(d.Milliseconds(), 10))
	}
	return strings.Join(out, ", ") + " ms"
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
