package gctune

import (
	"runtime"
	"runtime/debug"
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
		{200, 64 * mib, 4 * mib, 1501},  // 4 MiB × 16.01 ≥ 64 MiB
		{200, 64 * mib, 30 * mib, 200},  // 30 MiB × 3 is over the floor already
		{200, 64 * mib, 64 * mib, 200},  // at the floor
		{200, 64 * mib, 500 * mib, 200}, // a large heap keeps the base
		{100, 64 * mib, 1, maxPercent},  // bounded
		{100, 64 * mib, 0, maxPercent},  // nothing measured yet
		{200, 64 * mib, 22 * mib, 200},  // 22 MiB × 3 = 66 MiB: the base suffices
		{200, 64 * mib, 21 * mib, 205},  // 21 MiB × 3 = 63 MiB: just short
	} {
		if got := PercentFor(tc.base, tc.floor, tc.live); got != tc.want {
			t.Errorf("PercentFor(%d, %d, %d) = %d; want %d", tc.base, tc.floor, tc.live, got, tc.want)
		}
		if got := PercentFor(tc.base, tc.floor, tc.live); tc.live > 0 && got < maxPercent {
			goal := tc.live + tc.live*uint64(got)/100
			if goal < tc.floor && got > tc.base {
				t.Errorf("PercentFor(%d, %d, %d) = %d gives a goal of %d, under the floor", tc.base, tc.floor, tc.live, got, goal)
			}
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
