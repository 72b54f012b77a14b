package dial

import (
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// quickAckOn reads TCP_QUICKACK of c's socket: 1 while the kernel
// acknowledges at once, 0 once it has gone back to delaying ACKs.
func quickAckOn(t *testing.T, c *net.TCPConn) int {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var serr error
	if err := raw.Control(func(fd uintptr) {
		v, serr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK)
	}); err != nil || serr != nil {
		t.Fatalf("getsockopt: %v %v", err, serr)
	}
	return v
}

// TestQuickAckAfterEveryRead: a dialled connection acknowledges at once
// after every read, also after request-response exchanges, which put a
// plain socket back into delayed acknowledgements (Linux's "pingpong"
// mode).
func TestQuickAckAfterEveryRead(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const rounds = 20
	served := make(chan error, 2)
	go func() {
		for range 2 {
			s, err := ln.Accept()
			if err != nil {
				served <- err
				return
			}
			// Request-response rounds: a byte out, a byte back.
			buf := make([]byte, 1)
			for range rounds {
				if _, err = s.Write([]byte("s")); err == nil {
					_, err = io.ReadFull(s, buf)
				}
				if err != nil {
					break
				}
			}
			s.Close()
			served <- err
		}
	}()
	exchange := func(c net.Conn, check func(round int)) {
		t.Helper()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 1)
		for i := range rounds {
			if _, err := io.ReadFull(c, buf); err != nil {
				t.Fatal(err)
			}
			check(i)
			if _, err := c.Write([]byte("c")); err != nil {
				t.Fatal(err)
			}
		}
	}

	d := &Dialer{}
	conn, err := d.Dial(t.Context(), "example.org", Endpoint{Host: "127.0.0.1", Port: uint16(ln.Addr().(*net.TCPAddr).Port)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	q, ok := conn.(*quickAckConn)
	if !ok {
		t.Fatalf("Dial returned %T, not the quick-ACK connection", conn)
	}
	exchange(conn, func(i int) {
		if v := quickAckOn(t, q.TCPConn); v != 1 {
			t.Errorf("round %d: TCP_QUICKACK %d after a read, want 1", i, v)
		}
	})
	if err := <-served; err != nil {
		t.Fatal(err)
	}

	// The same exchange on a plain socket, for comparison (logged: what
	// the kernel does here is its business).
	plain, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	off := 0
	exchange(plain, func(int) {
		if quickAckOn(t, plain.(*net.TCPConn)) == 0 {
			off++
		}
	})
	t.Logf("a plain socket was back to delayed ACKs after %d of %d reads", off, rounds)
	if err := <-served; err != nil {
		t.Fatal(err)
	}
}
