//go:build unix

package proc

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// watchedEnv makes the test binary a process that starts a process group
// (sh running sleep), watches it, prints the group's id and waits to be
// killed: godist on the go test path, with go test's test binaries.
const watchedEnv = "GODIST_PROC_WATCHED"

func watchedMain() {
	cmd := exec.CommandContext(context.Background(), "sh", "-c", "sleep 60 & sleep 60")
	Group(cmd, Options{})
	if err := cmd.Start(); err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	stop := Watch(cmd.Process)
	fmt.Println(cmd.Process.Pid)
	if os.Getenv(watchedEnv) == "stop" {
		stop()
		fmt.Println("stopped")
	}
	time.Sleep(time.Minute)
	os.Exit(0)
}

// groupAlive reports whether a process of group pgid is running.
func groupAlive(pgid int) bool {
	return syscall.Kill(-pgid, 0) == nil
}

// A process killed outright takes the process group it watched along;
// one that stopped its watchdog does not.
func TestWatch(t *testing.T) {
	for _, mode := range []string{"kill", "stop"} {
		t.Run(mode, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), watchedEnv+"="+mode)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			r := bufio.NewReader(out)
			line, _ := r.ReadString('\n')
			pgid, err := strconv.Atoi(strings.TrimSpace(line))
			if err != nil {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("watched process said %q", line)
			}
			defer syscall.Kill(-pgid, syscall.SIGKILL)
			if mode == "stop" {
				if line, _ := r.ReadString('\n'); line != "stopped\n" {
					t.Fatalf("watched process said %q", line)
				}
			}
			cmd.Process.Kill()
			cmd.Wait()
			wait := 5 * time.Second
			if mode == "stop" {
				wait = time.Second // it stays: a second is evidence enough
			}
			deadline := time.Now().Add(wait)
			for groupAlive(pgid) && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if alive := groupAlive(pgid); alive != (mode == "stop") {
				t.Errorf("group %d alive %v after its watcher was killed (watchdog %s)", pgid, alive, mode)
			}
		})
	}
}
