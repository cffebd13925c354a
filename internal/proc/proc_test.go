//go:build unix

package proc

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	MainIfWatchdog()
	if os.Getenv(watchedEnv) != "" {
		watchedMain()
	}
	goleak.VerifyTestMain(m)
}

func TestOutcomes(t *testing.T) {
	for _, c := range []struct {
		script string
		want   Outcome
	}{
		{"exit 0", Outcome{}},
		{"exit 3", Outcome{ExitCode: 3}},
		{"kill -KILL $$", Outcome{ExitCode: -1, Signal: "killed"}},
		{"kill -QUIT $$", Outcome{ExitCode: -1, Signal: "quit"}},
	} {
		cmd := exec.CommandContext(context.Background(), "sh", "-c", c.script)
		Group(cmd, Options{})
		got, err := OutcomeOf(cmd, cmd.Run())
		if err != nil || got != c.want {
			t.Errorf("%q: got %+v, %v; want %+v", c.script, got, err, c.want)
		}
	}
	cmd := exec.Command("/nonexistent/binary")
	if _, err := OutcomeOf(cmd, cmd.Run()); err == nil {
		t.Error("a binary that cannot start: no error")
	}
}

// A child that keeps the output open after its parent exited: Wait returns
// after WaitDelay, and the outcome says the I/O did not complete.
func TestIOIncomplete(t *testing.T) {
	cmd := exec.CommandContext(context.Background(), "sh", "-c", "sleep 30 & exit 0")
	var out bytes.Buffer
	cmd.Stdout = &out
	Group(cmd, Options{WaitDelay: 200 * time.Millisecond})
	start := time.Now()
	got, err := OutcomeOf(cmd, cmd.Run())
	if err != nil || got != (Outcome{IOIncomplete: true}) {
		t.Fatalf("got %+v, %v; want I/O incomplete with exit 0", got, err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Wait took %v", d)
	}
	Signal(cmd.Process, Kill) // the sleep, still in the group
}

// Cancel kills the whole group: a grandchild goes with its parent.
func TestCancelKillsGroup(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "sh", "-c", "sleep 60 & echo $!; wait")
	var out syncBuf
	cmd.Stdout = &out
	Group(cmd, Options{DieWithParent: true})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	for deadline := time.Now().Add(5 * time.Second); pid == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		pid, _ = strconv.Atoi(strings.TrimSpace(out.String()))
	}
	if pid == 0 {
		t.Fatal("no grandchild pid")
	}
	cancel()
	got, _ := OutcomeOf(cmd, cmd.Wait())
	if got.Signal != "killed" {
		t.Errorf("outcome %+v, want killed", got)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("grandchild %d survived its group's kill", pid)
		}
	}
}

func TestSignalEndedProcess(t *testing.T) {
	cmd := exec.CommandContext(context.Background(), "true")
	Group(cmd, Options{})
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if err := Signal(cmd.Process, Quit); err != nil {
		t.Errorf("signal to an ended process: %v", err)
	}
	if CPUTime(cmd.ProcessState) < 0 {
		t.Error("negative CPU time")
	}
}

func TestParseSig(t *testing.T) {
	for in, want := range map[string]Sig{"QUIT": Quit, "KILL": Kill, "INT": Interrupt, "TERM": Term, "bogus": Kill} {
		if got := ParseSig(in); got != want {
			t.Errorf("ParseSig(%q) = %q, want %q", in, got, want)
		}
	}
}
