//go:build !unix

package omemo_test

import "time"

// cpuTime is not available here; benchmarks report wall-clock metrics only.
func cpuTime() (time.Duration, bool) { return 0, false }
