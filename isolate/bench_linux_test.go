package isolate

import (
	"os"
	"testing"
)

// BenchmarkStart is the cost of one test process start, plain and
// isolated: the helper exits at once, so the figure is start-up and exit
// (Wrap's TMPDIR, the shim's own start, the namespaces, lo) and nothing
// else. The shim is this test binary; godist's own start-up is what counts
// for the real shim.
func BenchmarkStart(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			cmd := helperCmd(b, roleExit0, nil)
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, mode := range []Mode{None, NetRoot, NetUser} {
		b.Run("wrapped-"+mode.String(), func(b *testing.B) {
			env := append(os.Environ(), helperEnv+"="+roleExit0)
			for b.Loop() {
				w, err := Wrap([]string{selfExe}, env, nil, Options{Mode: mode})
				if err != nil {
					b.Fatal(err)
				}
				cmd := helperCmd(b, roleExit0, w)
				if err := w.Start(cmd); err != nil {
					b.Fatal(err)
				}
				if err := cmd.Wait(); err != nil {
					b.Fatal(err)
				}
				w.Cleanup()
			}
		})
	}
}

// BenchmarkProbe is one probe of a mode, what Probe costs once a process.
func BenchmarkProbe(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	b.Run("net-root", func(b *testing.B) {
		for b.Loop() {
			if err := tryNetRoot(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("net-user", func(b *testing.B) {
		for b.Loop() {
			if err := try(NetUser); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkWrap is Wrap and Cleanup alone, no process: the private
// TMPDIR and the environment copy.
func BenchmarkWrap(b *testing.B) {
	env := os.Environ()
	for b.Loop() {
		w, err := Wrap([]string{"/bin/true"}, env, nil, Options{Mode: None})
		if err != nil {
			b.Fatal(err)
		}
		w.Cleanup()
	}
}
