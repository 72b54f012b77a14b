package dial

import (
	"net"
	"syscall"
)

// QuickAck wraps a TCP connection so that the kernel acknowledges what
// arrives at once instead of delaying its ACK (Linux's delayed ACK waits
// up to 40 ms). A server that leaves Nagle's algorithm on (Prosody's
// default) holds the small tail of a response, such as the IQ result
// that ends an archive page, until the previous segment is acknowledged:
// with delayed ACKs every request-response round trip could stall for
// the delayed-ACK timer. TCP_QUICKACK is not permanent, so it is set
// again after every read. Dial applies it; other connections (a test's
// relay, say) may too. Anything but a *net.TCPConn is returned as it is.
func QuickAck(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	q := &quickAckConn{TCPConn: tc, raw: raw}
	q.arm()
	return q
}

type quickAckConn struct {
	*net.TCPConn
	raw syscall.RawConn
}

func (c *quickAckConn) arm() {
	_ = c.raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}

// Read reads and re-arms the immediate acknowledgement.
func (c *quickAckConn) Read(p []byte) (int, error) {
	n, err := c.TCPConn.Read(p)
	if n > 0 {
		c.arm()
	}
	return n, err
}
