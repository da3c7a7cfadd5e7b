package logbuffer

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the flusher and the test to share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestLinesArriveWholeAndInOrder(t *testing.T) {
	var out lockedBuffer
	w := New(&out, 5*time.Millisecond)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				fmt.Fprintf(w, "writer %d line %04d %s\n", g, i, strings.Repeat("x", 100))
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 8*500 {
		t.Fatalf("%d lines; want %d", len(lines), 8*500)
	}
	next := map[string]int{}
	for _, l := range lines {
		var g, i int
		var rest string
		if _, err := fmt.Sscanf(l, "writer %d line %d %s", &g, &i, &rest); err != nil || len(rest) != 100 {
			t.Fatalf("torn line %q", l)
		}
		key := fmt.Sprint(g)
		if i != next[key] {
			t.Fatalf("writer %d: line %d after %d", g, i, next[key]-1)
		}
		next[key]++
	}
}

func TestBufferedLinesAreWrittenWithinTheInterval(t *testing.T) {
	var out lockedBuffer
	w := New(&out, 10*time.Millisecond)
	defer w.Close()
	_, _ = w.Write([]byte("hello\n"))
	if out.String() != "" {
		t.Fatal("a line was written through instead of buffered")
	}
	deadline := time.Now().Add(5 * time.Second)
	for out.String() != "hello\n" {
		if time.Now().After(deadline) {
			t.Fatal("the buffered line was never flushed")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWritesAfterCloseGoStraightThrough(t *testing.T) {
	var out lockedBuffer
	w := New(&out, time.Hour)
	_, _ = w.Write([]byte("a\n"))
	_ = w.Close()
	_, _ = w.Write([]byte("b\n"))
	if got := out.String(); got != "a\nb\n" {
		t.Fatalf("got %q; want both lines in order", got)
	}
}
