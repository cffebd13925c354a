//go:build unix

package run

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/godist/godist/collector"
	"github.com/godist/godist/gateway"
	"github.com/godist/godist/gotool"
	"github.com/godist/godist/internal/proc"
	"github.com/godist/godist/isolate"
	"github.com/godist/godist/report"
	"github.com/godist/godist/workers"
)

// The test binary doubles as godist's popen worker and as its go test
// -exec build shim, so a whole run happens inside `go test`, under -race
// and goleak.
func TestMain(m *testing.M) {
	isolate.MainIfShim()
	workers.MainIfGuard()
	proc.MainIfWatchdog()
	gotool.MainIfBuildShim()
	gateway.MainIfWorker()
	os.Setenv("GODIST_CACHE", "off") // every run runs its tests
	goleak.VerifyTestMain(m)
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// outcomes maps "pkg Test" to its terminal actions in a -json stream.
func outcomes(t *testing.T, stream []byte) map[string][]string {
	t.Helper()
	events, err := collector.ReadEvents(bytes.NewReader(stream))
	if err != nil {
		t.Fatalf("reading events: %v\n%s", err, stream)
	}
	got := map[string][]string{}
	for _, e := range events {
		switch e.Action {
		case "pass", "fail", "skip":
			key := e.Package + " " + e.Test
			got[key] = append(got[key], e.Action)
		}
	}
	return got
}

// TestRunInProcess runs godist's whole orchestration over popen workers
// inside this test: the outcomes are go test's.
func TestRunInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a fixture module")
	}
	dir := fixture(t, "basic")
	pkgs := []string{"./pass", "./fail", "./many", "./parallel", "./skip"}
	gocmd := exec.Command("go", append([]string{"test", "-json", "-count=1"}, pkgs...)...)
	gocmd.Dir = dir
	want, _ := gocmd.Output() // fails: ./fail

	t.Chdir(dir)
	cfg := DefaultConfig()
	cfg.Packages = pkgs
	cfg.JSON = true
	cfg.Workers = 2
	cfg.DistSet = true // workers, not the go test path
	cfg.HistoryFile = filepath.Join(t.TempDir(), "history.json")
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	code := Run(ctx, cfg, &stdout, &stderr)
	if code != report.ExitFailed {
		t.Errorf("exit status %d, want %d (./fail fails)\nstderr: %s", code, report.ExitFailed, stderr.String())
	}
	w, g := outcomes(t, want), outcomes(t, stdout.Bytes())
	if len(w) == 0 {
		t.Fatal("go test reported nothing")
	}
	for k, v := range w {
		if !slices.Equal(g[k], v) {
			t.Errorf("%s: godist %v, go test %v", k, g[k], v)
		}
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			t.Errorf("%s: reported by godist only", k)
		}
	}
	if _, err := os.Stat(cfg.HistoryFile); err != nil {
		t.Errorf("no history written: %v", err)
	}
}

// An interrupted run ends promptly, reports what it could and leaks
// nothing (goleak checks at the end of the package).
func TestRunInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a fixture module")
	}
	t.Chdir(fixture(t, "basic"))
	cfg := DefaultConfig()
	cfg.Packages = []string{"./slow"}
	cfg.JSON = true
	cfg.Workers = 2
	cfg.DistSet = true
	cfg.HistoryFile = filepath.Join(t.TempDir(), "history.json")
	var stdout lockedBuffer
	var stderr bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Once a test has started, stop the run.
		for !strings.Contains(stdout.String(), `"Action":"run"`) && ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	code := Run(ctx, cfg, &stdout, &stderr)
	cancel()
	<-done
	if code == report.ExitOK {
		t.Errorf("an interrupted run exited 0")
	}
	if d := time.Since(start); d > time.Minute {
		t.Errorf("interrupted run took %v", d)
	}
}

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

// Every test process is told its worker, the number of workers and the
// run's id, so that tests can share out ports or directories.
func TestWorkerEnvironment(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a module")
	}
	dir := t.TempDir()
	log := filepath.Join(t.TempDir(), "env.log")
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/env\n\ngo 1.22\n")
	var tests strings.Builder
	tests.WriteString("package env\n\nimport (\n\t\"os\"\n\t\"testing\"\n\t\"time\"\n)\n\n")
	tests.WriteString("func note(t *testing.T) {\n\ttime.Sleep(300 * time.Millisecond)\n" +
		"\tf, err := os.OpenFile(os.Getenv(\"ENV_LOG\"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)\n" +
		"\tif err != nil {\n\t\tt.Fatal(err)\n\t}\n\tdefer f.Close()\n" +
		"\tf.WriteString(os.Getenv(\"GODIST_WORKER\") + \" \" + os.Getenv(\"GODIST_WORKER_COUNT\") + \" \" + os.Getenv(\"GODIST_RUN_ID\") + \"\\n\")\n}\n")
	for _, n := range []string{"A", "B", "C", "D"} {
		tests.WriteString("func Test" + n + "(t *testing.T) { note(t) }\n")
	}
	write("env_test.go", tests.String())
	t.Setenv("ENV_LOG", log)
	t.Chdir(dir)
	runIDs := map[string]bool{}
	for range 2 {
		cfg := DefaultConfig()
		cfg.Packages = []string{"./..."}
		cfg.JSON = true
		cfg.Workers = 2
		cfg.DistSet = true
		cfg.HistoryFile = filepath.Join(t.TempDir(), "history.json")
		var stdout, stderr bytes.Buffer
		if code := Run(context.Background(), cfg, &stdout, &stderr); code != 0 {
			t.Fatalf("exit status %d\n%s%s", code, stdout.String(), stderr.String())
		}
		data, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(log)
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if len(lines) != 4 {
			t.Fatalf("%d tests noted their environment, want 4:\n%s", len(lines), data)
		}
		ids := map[string]bool{}
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) != 3 || (f[0] != "gw0" && f[0] != "gw1") || f[1] != "2" || len(f[2]) != 16 {
				t.Errorf("environment %q, want gw0|gw1, 2 and a 16-digit run id", l)
				continue
			}
			ids[f[2]] = true
		}
		if len(ids) != 1 {
			t.Errorf("one run, several run ids: %v", ids)
		}
		for id := range ids {
			if runIDs[id] {
				t.Errorf("two runs with run id %s", id)
			}
			runIDs[id] = true
		}
	}
}
