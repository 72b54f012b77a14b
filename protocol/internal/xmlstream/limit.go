package xmlstream

import (
	"errors"
	"io"
)

// readBufSize is how much the decoder reads from a plain io.Reader at a time.
const readBufSize = 4096

// budgetReader is the io.ByteReader that feeds encoding/xml. It hands out at
// most n more bytes and then fails with tooLarge, so encoding/xml can never
// buffer more than the budget, whatever the peer sends (an endless text node,
// attribute value, name or comment). The decoder resets the budget at each
// top-level element.
type budgetReader struct {
	n        int64 // bytes left in the budget
	buf      []byte
	r, w     int           // buf[r:w] is unread
	src      io.Reader     // plain source, read in readBufSize chunks into buf
	br       io.ByteReader // non-nil: read byte by byte, never reading ahead
	srcErr   error         // sticky error from src, returned once buf is drained
	eof      bool          // src reported io.EOF
	tooLarge error         // returned when the budget is spent

	// consumed counts bytes handed out before the last reset; with
	// resetN-n it gives the total.
	consumed int64
	resetN   int64
}

// reset gives the reader a fresh budget of n bytes.
func (b *budgetReader) reset(n int64) {
	b.consumed = b.total()
	b.n, b.resetN = n, n
}

// total returns the number of bytes handed out so far.
func (b *budgetReader) total() int64 {
	return b.consumed + b.resetN - b.n
}

// ReadByte implements io.ByteReader.
func (b *budgetReader) ReadByte() (byte, error) {
	if b.n <= 0 {
		return 0, b.tooLarge
	}
	if b.r < b.w {
		c := b.buf[b.r]
		b.r++
		b.n--
		return c, nil
	}
	return b.slowReadByte()
}

func (b *budgetReader) slowReadByte() (byte, error) {
	if b.srcErr != nil {
		return 0, b.srcErr
	}
	if b.br != nil {
		c, err := b.br.ReadByte()
		if err != nil {
			b.setErr(err)
			return 0, err
		}
		b.n--
		return c, nil
	}
	if b.src == nil {
		b.eof = true
		b.srcErr = io.EOF
		return 0, io.EOF
	}
	if b.buf == nil {
		b.buf = make([]byte, readBufSize)
	}
	// A reader may return 0, nil; give it a few chances like bufio does.
	for range 100 {
		n, err := b.src.Read(b.buf)
		if n < 0 || n > len(b.buf) {
			n, err = 0, errors.New("xmlstream: reader returned an invalid count")
		}
		b.r, b.w = 0, n
		if err != nil {
			b.setErr(err)
		}
		if n > 0 {
			c := b.buf[0]
			b.r = 1
			b.n--
			return c, nil
		}
		if err != nil {
			return 0, err
		}
	}
	b.setErr(io.ErrNoProgress)
	return 0, io.ErrNoProgress
}

func (b *budgetReader) setErr(err error) {
	if err == io.EOF {
		b.eof = true
	}
	b.srcErr = err
}

// Read implements io.Reader (xml.NewDecoder requires one; it reads through
// ReadByte).
func (b *budgetReader) Read(p []byte) (int, error) {
	for i := range p {
		c, err := b.ReadByte()
		if err != nil {
			return i, err
		}
		p[i] = c
	}
	return len(p), nil
}
