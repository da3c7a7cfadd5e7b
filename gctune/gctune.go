// Package gctune paces the garbage collector of a server whose live heap is small.
//
// Go starts a collection when the heap has grown by GOGC percent over what the last one left
// alive. A store server keeps little alive (a few MiB between requests) and allocates a lot
// that dies young (tens of KiB per GraphQL request), so at 1,000 requests a second that rule
// collects about seven times a second, and every collection slows the requests that run
// alongside it: they pay for marking in proportion to what they allocate, on a machine whose
// two cores the collector's worker shares. Most of the slowest hundredth of product pages were
// those requests.
//
// Start keeps the heap goal at a floor (64 MiB by default) while the live heap is small, by
// raising GOGC after each collection; once the live heap is large enough the base GOGC applies
// again. GOMEMLIMIT, when set, still caps the heap: the runtime collects at the limit whatever
// GOGC says.
package gctune

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"sync"
)

// runtimeHeapMinimum is the runtime's smallest heap goal at GOGC=100. It scales with GOGC: at
// GOGC=p no collection starts before the heap reaches runtimeHeapMinimum × p/100, whatever the
// live heap. So a raised GOGC must stay under floor/runtimeHeapMinimum × 100, or a heap that is
// almost empty (before the first collection, say) gets a goal far above the floor: at GOGC=100000
// the first collection would wait for 4 GB.
const runtimeHeapMinimum = 4 << 20

// Tuner raises GOGC after collections while the live heap is under the floor.
type Tuner struct {
	base  int
	floor uint64

	mu      sync.Mutex
	stopped bool
	percent int
	sample  []metrics.Sample
}

// Start sets GOGC to base percent, and after every collection to whatever keeps the next
// collection's goal at floor bytes at least. A floor of 0 only sets base. Stop ends the tuning.
func Start(base int, floor uint64) *Tuner {
	t := &Tuner{base: base, floor: floor, percent: base,
		sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	debug.SetGCPercent(base)
	if floor > 0 {
		t.adjust()
		t.arm()
	}
	return t
}

// Percent is the GOGC the tuner last set.
func (t *Tuner) Percent() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.percent
}

// Stop leaves GOGC at base and stops following collections.
func (t *Tuner) Stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	t.percent = t.base
	debug.SetGCPercent(t.base)
}

// arm allocates an object that nothing references, with a cleanup: the runtime runs the cleanup
// once a collection has found the object dead, that is after every collection, and the cleanup
// arms the next one.
func (t *Tuner) arm() {
	marker := new([32]byte) // larger than the tiny allocator's blocks, so it dies alone
	runtime.AddCleanup(marker, func(t *Tuner) {
		if t.adjust() {
			t.arm()
		}
	}, t)
}

// adjust sets GOGC from the live heap the last collection measured, and reports whether the
// tuner is still running.
func (t *Tuner) adjust() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	metrics.Read(t.sample)
	live := uint64(0)
	if t.sample[0].Value.Kind() == metrics.KindUint64 {
		live = t.sample[0].Value.Uint64()
	}
	percent := PercentFor(t.base, t.floor, live)
	if percent != t.percent {
		t.percent = percent
		debug.SetGCPercent(percent)
	}
	return true
}

// PercentFor is the GOGC that makes the heap goal after a collection leaving live bytes about
// floor, and never less than base: live × (1 + GOGC/100) reaches the floor, or, for a live heap
// under runtimeHeapMinimum, the runtime's minimum goal at that GOGC is the floor.
func PercentFor(base int, floor, live uint64) int {
	ceiling := max(base, int(floor*100/runtimeHeapMinimum))
	if live == 0 {
		return ceiling
	}
	if live >= floor {
		return base
	}
	needed := int((floor-live)*100/live) + 1
	return min(max(base, needed), ceiling)
}

// Defaults of FromEnv.
const (
	// DefaultPercent is twice Go's own: each GraphQL request leaves a few hundred short-lived
	// objects, and the live heap is small, so the collector's headroom is cheap.
	DefaultPercent = 200
	// DefaultFloorMiB is the smallest heap goal, in MiB.
	DefaultFloorMiB = 64
)

// FromEnv starts the tuner as the environment asks: nothing when GOGC is set (the runtime
// follows it as usual), otherwise DefaultPercent with a floor of GC_HEAP_FLOOR_MB MiB
// (DefaultFloorMiB when unset; 0 turns the floor off). It returns nil when it starts nothing.
func FromEnv(getenv func(string) string) (*Tuner, error) {
	if getenv("GOGC") != "" {
		return nil, nil
	}
	floorMiB := DefaultFloorMiB
	if v := getenv("GC_HEAP_FLOOR_MB"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1<<20 {
			return nil, fmt.Errorf("GC_HEAP_FLOOR_MB=%q: want a number of MiB from 0 to 1048576", v)
		}
		floorMiB = n
	}
	return Start(DefaultPercent, uint64(floorMiB)<<20), nil
}
