//go:build !linux

package dial

import "net"

// QuickAck is Linux's immediate-acknowledgement setting (quickack_linux.go);
// elsewhere the connection is used as it is.
func QuickAck(c net.Conn) net.Conn { return c }
