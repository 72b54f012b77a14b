package client

import (
	"net"
	"slices"
	"strings"
)

// localAddrs lists the machine's non-loopback interface addresses.
func localAddrs() ([]string, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && (ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast()) {
			continue
		}
		out = append(out, a.String())
	}
	return out, nil
}

// addrKey summarises the local addresses; "" means no network.
func addrKey(f func() ([]string, error)) string {
	addrs, err := f()
	if err != nil {
		return ""
	}
	addrs = slices.Clone(addrs)
	slices.Sort(addrs)
	return strings.Join(addrs, ",")
}
