package tape

import (
	"errors"
	"io"
)

// recordWriter cuts a byte stream into fixed-size records, as tar -b does
// on a tape: every record written has exactly the same length, the last
// one padded with zeros, so GNU tar reads the archive back unaided.
type recordWriter struct {
	dev     Device
	buf     []byte
	n       int
	records int
}

func newRecordWriter(dev Device, size int) *recordWriter {
	return &recordWriter{dev: dev, buf: make([]byte, size)}
}

func (w *recordWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		c := copy(w.buf[w.n:], p)
		w.n += c
		written += c
		p = p[c:]
		if w.n == len(w.buf) {
			if err := w.flush(); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

func (w *recordWriter) flush() error {
	if err := w.dev.WriteRecord(w.buf); err != nil {
		return err
	}
	w.n = 0
	w.records++
	return nil
}

// Close pads and writes the last record.
func (w *recordWriter) Close() error {
	if w.n == 0 {
		return nil
	}
	clear(w.buf[w.n:])
	return w.flush()
}

// recordReader reads one tape file record by record; it ends with io.EOF
// at the file's filemark, leaving the tape positioned after it.
type recordReader struct {
	dev  Device
	buf  []byte
	r, n int
	done bool
}

func newRecordReader(dev Device) *recordReader {
	// A buffer smaller than a record makes st fail the read, so use the
	// largest record danzen writes.
	return &recordReader{dev: dev, buf: make([]byte, MaxRecordSize)}
}

func (rr *recordReader) Read(p []byte) (int, error) {
	for rr.r == rr.n {
		if rr.done {
			return 0, io.EOF
		}
		n, err := rr.dev.ReadRecord(rr.buf)
		if errors.Is(err, ErrFilemark) {
			rr.done = true
			return 0, io.EOF
		}
		if err != nil {
			return 0, err
		}
		rr.r, rr.n = 0, n
	}
	c := copy(p, rr.buf[rr.r:rr.n])
	rr.r += c
	return c, nil
}

// drain reads to the end of the file, so the tape sits after its filemark.
func (rr *recordReader) drain() error {
	_, err := io.Copy(io.Discard, rr)
	return err
}
