//go:build unix

package run

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/godist/godist/collector"
	"github.com/godist/godist/internal/redistest"
	"github.com/godist/godist/queue"
	"github.com/godist/godist/report"
)

// TestQueueJobsInProcess runs two --queue jobs of one run side by side in
// this process (under -race and goleak): together their results are go
// test's, each test once, and the merged results in the queue agree.
func TestQueueJobsInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a fixture module")
	}
	srv := redistest.Start(t)
	dir := fixture(t, "basic")
	pkgs := []string{"./pass", "./fail", "./many", "./skip", "./nottests", "./buildfail"}
	gocmd := exec.Command("go", append([]string{"test", "-json", "-count=1"}, pkgs...)...)
	gocmd.Dir = dir
	want, _ := gocmd.Output() // fails: ./fail, ./buildfail

	t.Chdir(dir)
	url := "redis://" + srv.Addr + "/inprocess"
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	outs := make([]bytes.Buffer, 2)
	errs := make([]bytes.Buffer, 2)
	codes := make([]int, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		cfg := DefaultConfig()
		cfg.Packages = pkgs
		cfg.ExplicitPackages = true
		cfg.JSON = true
		cfg.Workers = 2
		cfg.HistoryFile = filepath.Join(t.TempDir(), "history.json")
		cfg.Queue = url
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = Run(ctx, cfg, &outs[i], &errs[i])
		}()
	}
	wg.Wait()
	var all []collector.Event
	for i := range 2 {
		t.Logf("job %d: exit %d\n%s", i, codes[i], errs[i].String())
		if codes[i] == report.ExitUsage {
			t.Errorf("job %d exited %d", i, codes[i])
		}
		events, err := collector.ReadEvents(&outs[i])
		if err != nil {
			t.Fatalf("job %d: %v", i, err)
		}
		all = append(all, events...)
	}
	var stream bytes.Buffer
	for _, e := range all {
		json.NewEncoder(&stream).Encode(e)
	}
	w, g := outcomes(t, want), outcomes(t, stream.Bytes())
	if len(w) == 0 {
		t.Fatal("go test reported nothing")
	}
	for k, v := range w {
		if k[len(k)-1] == ' ' {
			continue // a package's outcome is the merge's: each job saw part
		}
		if !slices.Equal(g[k], v) {
			t.Errorf("%s: jobs %v, go test %v", k, g[k], v)
		}
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			t.Errorf("%s: reported by the jobs only", k)
		}
	}

	q, err := queue.Open(ctx, url, queue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	p, err := q.Progress(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Complete() || len(p.Jobs) != 2 {
		t.Errorf("queue after the jobs: %+v, want complete with 2 jobs", p)
	}
	var streams [][]collector.Event
	for res, err := range q.Results(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		events, err := collector.ReadEvents(bytes.NewReader(res.Data))
		if err != nil {
			t.Fatalf("unit %s: %v", res.ID, err)
		}
		streams = append(streams, events)
	}
	stream.Reset()
	for _, e := range collector.MergeStreams(streams) {
		json.NewEncoder(&stream).Encode(e)
	}
	g = outcomes(t, stream.Bytes())
	for k, v := range w {
		if !slices.Equal(g[k], v) {
			t.Errorf("merged %s: %v, go test %v", k, g[k], v)
		}
	}
}
