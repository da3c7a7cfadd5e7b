package app_test

import (
	"strings"
	"testing"

	"storefront/app"
)

// TestPprofConfig: profiling is off unless asked for, and then only on a loopback address.
func TestPprofConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env     map[string]string
		want    string
		problem string
	}{
		{env: nil, want: ""},
		{env: map[string]string{"PPROF": "off", "PPROF_ADDR": "127.0.0.1:7000"}, want: ""},
		{env: map[string]string{"PPROF": "on"}, want: "127.0.0.1:6060"},
		{env: map[string]string{"PPROF": "on", "PPROF_ADDR": "[::1]:7000"}, want: "[::1]:7000"},
		{env: map[string]string{"PPROF": "on", "PPROF_ADDR": "0.0.0.0:6060"}, problem: "PPROF_ADDR must be a loopback"},
		{env: map[string]string{"PPROF": "on", "PPROF_ADDR": "localhost"}, problem: "PPROF_ADDR must be a loopback"},
		{env: map[string]string{"PPROF": "yes"}, problem: "PPROF must be on or off"},
	} {
		cfg, err := app.LoadConfig(mapEnv(tc.env))
		if tc.problem != "" {
			if err == nil || !strings.Contains(err.Error(), tc.problem) {
				t.Errorf("%v: error %v; want one saying %q", tc.env, err, tc.problem)
			}
			continue
		}
		if err != nil || cfg.PprofAddr != tc.want {
			t.Errorf("%v: PprofAddr %q, error %v; want %q", tc.env, cfg.PprofAddr, err, tc.want)
		}
	}
}
