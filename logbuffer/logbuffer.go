// Package logbuffer batches log output in memory and writes it out every so often, so that a
// request never waits on the log's write: with one JSON line per request, that write was a
// system call on every request's path, made before net/http sent the answer.
package logbuffer

import (
	"io"
	"sync"
	"time"
)

// maxBuffered is how much may wait before a writer flushes itself; a log that cannot keep up then
// slows its writers down instead of growing without bound or dropping lines.
const maxBuffered = 256 << 10

// Writer buffers what is written to it and writes it to the underlying writer every interval, when
// the buffer fills, and on Flush or Close. Each Write is kept whole, so lines never interleave.
type Writer struct {
	out      io.Writer
	interval time.Duration

	mu     sync.Mutex
	buf    []byte
	spare  []byte
	closed bool

	writeMu sync.Mutex // orders writes to out
	stop    chan struct{}
	done    chan struct{}
}

// New returns a Writer over out that flushes every interval until Close.
func New(out io.Writer, interval time.Duration) *Writer {
	w := &Writer{out: out, interval: interval, stop: make(chan struct{}), done: make(chan struct{})}
	go w.loop()
	return w
}

// Write keeps p for the next flush. After Close it writes through.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		w.writeMu.Lock()
		defer w.writeMu.Unlock()
		return w.out.Write(p)
	}
	w.buf = append(w.buf, p...)
	full := len(w.buf) >= maxBuffered
	w.mu.Unlock()
	if full {
		if err := w.Flush(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes out what is buffered.
func (w *Writer) Flush() error {
	w.writeMu.Lock()
	defer w.writeMu.Unlock()
	w.mu.Lock()
	data := w.buf
	w.buf, w.spare = w.spare[:0], nil
	w.mu.Unlock()
	if len(data) == 0 {
		w.giveBack(data)
		return nil
	}
	_, err := w.out.Write(data)
	w.giveBack(data)
	return err
}

// giveBack keeps a buffer of ordinary size for reuse.
func (w *Writer) giveBack(b []byte) {
	if cap(b) > 4*maxBuffered {
		return
	}
	w.mu.Lock()
	if w.spare == nil {
		w.spare = b[:0]
	}
	w.mu.Unlock()
}

// Close stops the periodic flush and writes out what is left; later writes go straight through.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	<-w.done
	return w.Flush()
}

func (w *Writer) loop() {
	defer close(w.done)
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			_ = w.Flush()
		}
	}
}
