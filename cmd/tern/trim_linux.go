//go:build linux && cgo

package main

// #include <malloc.h>
import "C"

// trimMemory returns the C allocator's free memory (glibc's malloc_trim)
// to the operating system: the OpenGL driver's buffers freed after the
// first frames.
func trimMemory() { C.malloc_trim(0) }
