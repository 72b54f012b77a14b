package omemo

import "go.mau.fi/libsignal/logger"

// quietLogger is the logger installed in go.mau.fi/libsignal. The
// library's default prints every level to stdout, and its debug lines
// contain key material (chain keys, message keys, plaintexts), so we never
// let a line through: every error the library logs is also returned to us,
// and Account reports those through its own *slog.Logger, without secrets.
type quietLogger struct{}

func (quietLogger) Debug(caller, message string)   {}
func (quietLogger) Info(caller, message string)    {}
func (quietLogger) Warning(caller, message string) {}
func (quietLogger) Error(caller, message string)   {}
func (quietLogger) Configure(settings string)      {}

// init replaces the library's process-wide logger before any of our code
// can call into the library. The library offers no per-instance logger, so
// this is the one piece of global state we touch; it is set once here and
// never changed.
func init() {
	var l logger.Loggable = quietLogger{}
	logger.Setup(&l)
}
