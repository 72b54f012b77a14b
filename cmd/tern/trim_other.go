//go:build !linux || !cgo

package main

// trimMemory does nothing where the C allocator has no trim call.
func trimMemory() {}
