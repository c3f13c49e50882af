package tape

import (
	"errors"
	"io"
)

// recordWriter cuts a byte stream into fixed-size records, as tar -b does
// on a tape: every record written has exactly the same length, the last
// one padded with zeros, so GNU tar reads the archive back unaided. A
// goroutine writes one record while the next is filled, so the drive is
// kept streaming while files are read and hashed.
type recordWriter struct {
	buf  []byte
	n    int
	full chan []byte // records to write
	free chan []byte // buffers to fill
	done chan error  // the writer's first error, once full is closed
	err  error       // set from done: writing has stopped
}

func newRecordWriter(dev Device, size int) *recordWriter {
	w := &recordWriter{buf: make([]byte, size), full: make(chan []byte), free: make(chan []byte, 1), done: make(chan error, 1)}
	w.free <- make([]byte, size)
	go func() {
		var err error
		for b := range w.full {
			if err == nil {
				err = dev.WriteRecord(b)
			}
			if err != nil {
				select {
				case w.done <- err: // tell the filler at once
				default:
				}
			}
			w.free <- b
		}
		select {
		case w.done <- err:
		default:
		}
		close(w.done)
	}()
	return w
}

func (w *recordWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if err := w.failed(); err != nil {
			return written, err
		}
		c := copy(w.buf[w.n:], p)
		w.n += c
		written += c
		p = p[c:]
		if w.n == len(w.buf) {
			w.full <- w.buf
			w.buf, w.n = <-w.free, 0
		}
	}
	return written, nil
}

// failed reports the writer's error without waiting.
func (w *recordWriter) failed() error {
	if w.err == nil {
		select {
		case err, ok := <-w.done:
			if ok {
				w.err = err
			}
		default:
		}
	}
	return w.err
}

// Close pads and writes the last record and waits for every write.
func (w *recordWriter) Close() error {
	if w.n > 0 && w.failed() == nil {
		clear(w.buf[w.n:])
		w.full <- w.buf
		w.buf = <-w.free
	}
	close(w.full)
	for err := range w.done {
		if w.err == nil {
			w.err = err
		}
	}
	return w.err
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
