package gctune

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercentFor(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		base        int
		floor, live uint64
		want        int
	}{
		{200, 64 * mib, 8 * mib, 701},   // 8 MiB × 8.01 ≥ 64 MiB
		{200, 64 * mib, 4 * mib, 1501},  // 4 MiB × 16.01 ≥ 64 MiB
		{200, 64 * mib, 30 * mib, 200},  // 30 MiB × 3 is over the floor already
		{200, 64 * mib, 64 * mib, 200},  // at the floor
		{200, 64 * mib, 500 * mib, 200}, // a large heap keeps the base
		{100, 64 * mib, 1, 1600},        // the runtime's minimum goal at 1600 is 64 MiB
		{100, 64 * mib, 0, 1600},        // nothing measured yet: the same
		{200, 64 * mib, 1 * mib, 1600},  // under 4 MiB live, the minimum goal sets the pace
		{200, 4 * mib, 1 * mib, 200},    // a floor at the runtime's own minimum: the base
		{200, 64 * mib, 22 * mib, 200},  // 22 MiB × 3 = 66 MiB: the base suffices
		{200, 64 * mib, 21 * mib, 205},  // 21 MiB × 3 = 63 MiB: just short
	} {
		if got := PercentFor(tc.base, tc.floor, tc.live); got != tc.want {
			t.Errorf("PercentFor(%d, %d, %d) = %d; want %d", tc.base, tc.floor, tc.live, got, tc.want)
		}
		// The runtime's goal at that GOGC: what the live heap grows to, or its minimum.
		got := PercentFor(tc.base, tc.floor, tc.live)
		goal := max(tc.live+tc.live*uint64(got)/100, runtimeHeapMinimum*uint64(got)/100)
		if goal < tc.floor && got > tc.base {
			t.Errorf("PercentFor(%d, %d, %d) = %d gives a goal of %d, under the floor", tc.base, tc.floor, tc.live, got, goal)
		}
		if limit := max(tc.floor, tc.live) * 11 / 10; goal > limit && got > tc.base {
			t.Errorf("PercentFor(%d, %d, %d) = %d gives a goal of %d MiB, far over the floor", tc.base, tc.floor, tc.live, got, goal>>20)
		}
	}
}

// TestTunerFollowsCollections: with a floor far above this test's heap, GOGC is raised after
// collections, and Stop puts the base back.
func TestTunerFollowsCollections(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	tuner := Start(150, 1<<30)
	deadline := time.Now().Add(5 * time.Second)
	for tuner.Percent() <= 150 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if p := tuner.Percent(); p <= 150 {
		t.Fatalf("GOGC %d after collections; want it raised over the base for a 1 GiB floor", p)
	}
	if current := debug.SetGCPercent(100); current != tuner.Percent() {
		t.Errorf("runtime GOGC %d; tuner says %d", current, tuner.Percent())
	}
	tuner.Stop()
	if current := debug.SetGCPercent(100); current != 150 {
		t.Errorf("GOGC %d after Stop; want the base 150", current)
	}
	runtime.GC()
	time.Sleep(20 * time.Millisecond)
	if current := debug.SetGCPercent(100); current != 100 {
		t.Errorf("GOGC changed to %d by a stopped tuner", current)
	}
}

func TestFromEnv(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	if tuner, err := FromEnv(env(map[string]string{"GOGC": "50"})); tuner != nil || err != nil {
		t.Errorf("with GOGC set: %v, %v; want no tuner", tuner, err)
	}
	for _, bad := range []string{"x", "-1", "99999999"} {
		if _, err := FromEnv(env(map[string]string{"GC_HEAP_FLOOR_MB": bad})); err == nil {
			t.Errorf("GC_HEAP_FLOOR_MB=%q accepted", bad)
		}
	}
	tuner, err := FromEnv(env(map[string]string{"GC_HEAP_FLOOR_MB": "0"}))
	if err != nil || tuner == nil {
		t.Fatalf("GC_HEAP_FLOOR_MB=0: %v, %v", tuner, err)
	}
	runtime.GC()
	if p := tuner.Percent(); p != DefaultPercent {
		t.Errorf("GOGC %d with the floor off; want %d", p, DefaultPercent)
	}
	tuner.Stop()
}

// TestStartGoalNearFloor: right after Start, before any collection has measured the live heap,
// the runtime's heap goal is about the floor, not a multiple of it.
func TestStartGoalNearFloor(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	const floor = 64 << 20
	tuner := Start(200, floor)
	defer tuner.Stop()
	sample := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
	metrics.Read(sample)
	if goal := sample[0].Value.Uint64(); goal < floor*9/10 || goal > floor*11/10 {
		t.Errorf("heap goal %d MiB after Start with a %d MiB floor (GOGC %d)", goal>>20, floor>>20, tuner.Percent())
	}
}
