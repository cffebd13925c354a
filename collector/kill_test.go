package collector

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestConverterKilled kills a real test process in the middle of a test,
// as godist does for a per-test timeout (SIGQUIT: goroutine dump) or a
// stop (SIGKILL).
func TestConverterKilled(t *testing.T) {
	cases := []struct {
		sig        syscall.Signal
		reason     string
		wantReason string
		wantOutput string
	}{
		{syscall.SIGKILL, "", "test binary was killed while running TestHang", ""},
		{syscall.SIGQUIT, "test TestHang ran longer than 1s", "test TestHang ran longer than 1s", "goroutine "},
	}
	for _, tc := range cases {
		t.Run(tc.sig.String(), func(t *testing.T) {
			dir := fixtures(t)
			cmd := exec.Command(filepath.Join(dir, "crash.test"), "-test.v=test2json", "-test.paniconexit0", "-test.run=^(TestHang|TestLast)$")
			cmd.Dir = filepath.Join(modDir, "crash")
			pr, pw := io.Pipe()
			cmd.Stdout, cmd.Stderr = pw, pw
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// The pipe's writer is closed once the process is reaped.
			waitErr := make(chan error, 1)
			reaped := make(chan struct{})
			go func() {
				err := cmd.Wait()
				pw.Close()
				waitErr <- err
				close(reaped)
			}()
			t.Cleanup(func() {
				cmd.Process.Kill() // in case the test failed early
				pr.Close()
				<-reaped
			})

			var events []Event
			c := NewProcessConverter("crash", []string{"TestHang", "TestLast"}, fakeClock(), func(e Event) { events = append(events, e) })
			br := bufio.NewReader(pr)
			for {
				line, err := br.ReadBytes('\n')
				c.Write(line)
				if bytes.Contains(line, []byte("hanging")) {
					break
				}
				if err != nil {
					t.Fatalf("process ended before the test ran: %v", err)
				}
			}
			cmd.Process.Signal(tc.sig)
			rest, _ := io.ReadAll(br)
			c.Write(rest)
			err := <-waitErr
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("wait: %v", err)
			}
			r := c.Finish(ee.ExitCode(), tc.reason)
			if r.Reason != tc.wantReason || !slices.Equal(r.Interrupted, []string{"TestHang"}) || !slices.Equal(r.NotStarted, []string{"TestLast"}) {
				t.Errorf("exit %d, result %+v", ee.ExitCode(), r)
			}
			out := outputByTest(events)["TestHang"]
			if !strings.Contains(out, tc.wantOutput) || !strings.HasSuffix(out, tc.wantReason+"\n--- FAIL: TestHang (X)\n") {
				t.Errorf("TestHang output %q", out)
			}
			if last := events[len(events)-1]; last.Action != "fail" || last.Test != "TestHang" || last.Elapsed == nil {
				t.Errorf("last event %+v", last)
			}
		})
	}
}
