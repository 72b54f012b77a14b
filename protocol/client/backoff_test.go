package client_test

import (
	"context"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tern-im/tern/protocol/client"
	"github.com/tern-im/tern/protocol/jid"
	"github.com/tern-im/tern/protocol/session"
)

// unreachable returns an address where nothing listens.
func unreachable(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestBackoff: failed attempts wait exponentially longer, with jitter
// within ±50%, up to the cap — in fake time.
func TestBackoff(t *testing.T) {
	addr := unreachable(t)
	synctest.Test(t, func(t *testing.T) {
		c := client.New(client.Config{
			Session:     session.Config{JID: jid.MustParse("a@example.test"), Password: "x", Server: addr},
			MinBackoff:  time.Second,
			MaxBackoff:  30 * time.Second,
			NetworkPoll: -1,
			Rand:        rand.New(rand.NewPCG(1, 2)),
		})
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		wg.Go(func() { _ = c.Run(ctx) })
		base := time.Second
		for i := range 8 {
			var off client.Offline
			for e := range c.Events() {
				if o, ok := e.(client.Offline); ok {
					off = o
					break
				}
			}
			want := min(base<<i, 30*time.Second)
			if off.Retry < want/2 || off.Retry >= want*3/2 {
				t.Errorf("attempt %d: retry in %v, want %v ±50%%", i+1, off.Retry, want)
			}
			start := time.Now()
			if e := <-c.Events(); e != (client.Connecting{Attempt: i + 2}) {
				t.Fatalf("after waiting: %#v", e)
			}
			if waited := time.Since(start); waited != off.Retry {
				t.Errorf("attempt %d: waited %v, announced %v", i+1, waited, off.Retry)
			}
		}
		cancel()
		for range c.Events() {
		}
		wg.Wait()
	})
}

// TestNetworkComesBack: while backing off, a change of the local addresses
// (the network returning) starts the next attempt at once.
func TestNetworkComesBack(t *testing.T) {
	addr := unreachable(t)
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		addrs := []string{}
		c := client.New(client.Config{
			Session:     session.Config{JID: jid.MustParse("a@example.test"), Password: "x", Server: addr},
			MinBackoff:  time.Hour,
			NetworkPoll: 2 * time.Second,
			Addrs: func() ([]string, error) {
				mu.Lock()
				defer mu.Unlock()
				return addrs, nil
			},
		})
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		wg.Go(func() { _ = c.Run(ctx) })
		for e := range c.Events() {
			if _, ok := e.(client.Offline); ok {
				break
			}
		}
		start := time.Now()
		time.Sleep(10 * time.Second) // fake time: nothing happens while there is no network
		synctest.Wait()
		select {
		case e := <-c.Events():
			t.Fatalf("attempt without network: %#v", e)
		default:
		}
		mu.Lock()
		addrs = []string{"192.0.2.7/24"}
		mu.Unlock()
		if e := <-c.Events(); e != (client.Connecting{Attempt: 2}) {
			t.Fatalf("got %#v", e)
		}
		if d := time.Since(start); d > 13*time.Second {
			t.Errorf("retried %v after the network returned", d-10*time.Second)
		}
		cancel()
		for range c.Events() {
		}
		wg.Wait()
	})
}
