package isolate

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Helper roles (helperEnv) and their settings.
const (
	roleExit0  = "exit0"  // exit at once: the start-up benchmarks
	roleHold   = "hold"   // listen on addrEnv, say so, hold it until stdin ends
	roleReport = "report" // print a report of what the process sees, as JSON
	roleProbe  = "probe"  // print a probeReport
	roleJail   = "jail"   // take namespaces away (jailEnv), then act as roleProbe

	addrEnv       = "ISOLATE_TEST_ADDR"
	grandchildEnv = "ISOLATE_TEST_GRANDCHILD" // report: also report a child's view
	dialEnv       = "ISOLATE_TEST_DIAL"       // report: dial these addresses (only with lo alone)
	runEnv        = "ISOLATE_TEST_RUN"        // probe: also run the wrapped report child
	jailEnv       = "ISOLATE_TEST_JAIL"       // jail: "limits" and/or "nobody", comma-separated
)

// report is what a helper process sees of its isolation.
type report struct {
	Pid, Pgid  int
	Uid        int
	NetNS      string
	TempDir    string
	ModeEnv    string
	ShimEnv    bool
	Interfaces []string
	Bind7      string            // error binding 127.0.0.7:0, "" if it worked
	Caps       map[string]string // CapEff, CapPrm, CapAmb from /proc/self/status
	Dials      map[string]string // address: dial error ("" connected)
	Grandchild *report
}

type probeReport struct {
	Mode       string
	Reason     string
	Took       time.Duration
	Argv       []string
	Cloneflags uintptr
	WrapMode   string
	Child      *report
	ChildErr   string
}

func helperMain(role string) int {
	switch role {
	case roleExit0:
		return 0
	case roleHold:
		return hold()
	case roleReport:
		r, err := makeReport()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		json.NewEncoder(os.Stdout).Encode(r)
		return 0
	case roleJail:
		if err := jail(os.Getenv(jailEnv)); err != nil {
			fmt.Fprintf(os.Stderr, "jail: %v\n", err)
			return 1
		}
		return probeHelper()
	case roleProbe:
		return probeHelper()
	}
	fmt.Fprintf(os.Stderr, "unknown helper role %q\n", role)
	return 2
}

func hold() int {
	ln, err := net.Listen("tcp", os.Getenv(addrEnv))
	if err != nil {
		fmt.Printf("error: %v\n", err)
		return 1
	}
	defer ln.Close()
	fmt.Println("bound")
	io.Copy(io.Discard, os.Stdin)
	return 0
}

func makeReport() (*report, error) {
	r := &report{Pid: os.Getpid(), Uid: os.Getuid(), TempDir: os.TempDir(), Caps: map[string]string{}}
	r.Pgid, _ = syscall.Getpgid(0)
	r.NetNS, _ = os.Readlink("/proc/self/ns/net")
	r.ModeEnv = os.Getenv(EnvMode)
	_, r.ShimEnv = os.LookupEnv(EnvShim)
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	for _, i := range ifs {
		r.Interfaces = append(r.Interfaces, i.Name)
	}
	if ln, err := net.Listen("tcp", "127.0.0.7:0"); err != nil {
		r.Bind7 = err.Error()
	} else {
		ln.Close()
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, _ := strings.Cut(line, ":")
		if k == "CapEff" || k == "CapPrm" || k == "CapAmb" || k == "CapInh" {
			r.Caps[k] = strings.TrimSpace(v)
		}
	}
	// Dial only where nothing can leave: a namespace with lo alone.
	if d := os.Getenv(dialEnv); d != "" && len(r.Interfaces) == 1 && r.Interfaces[0] == "lo" {
		r.Dials = map[string]string{}
		for _, addr := range strings.Split(d, ",") {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				r.Dials[addr] = err.Error()
				continue
			}
			c.Close()
			r.Dials[addr] = ""
		}
	}
	if os.Getenv(grandchildEnv) == "1" {
		cmd := exec.Command(selfExe)
		cmd.Env = append(without(os.Environ(), grandchildEnv), helperEnv+"="+roleReport)
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("grandchild: %v", err)
		}
		r.Grandchild = new(report)
		if err := json.Unmarshal(out, r.Grandchild); err != nil {
			return nil, fmt.Errorf("grandchild: %v: %q", err, out)
		}
	}
	return r, nil
}

// probeHelper probes, wraps a report child and, with runEnv, runs it.
func probeHelper() int {
	p := Probe()
	out := probeReport{Mode: p.Mode.String(), Reason: p.Reason, Took: p.Took}
	w, err := Wrap([]string{selfExe}, append(os.Environ(), helperEnv+"="+roleReport), nil, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer w.Cleanup()
	out.Argv, out.Cloneflags, out.WrapMode = w.Argv, w.SysProcAttr.Cloneflags, w.Mode.String()
	if os.Getenv(runEnv) == "1" {
		cmd := exec.Command(w.Argv[0], w.Argv[1:]...)
		cmd.Env, cmd.SysProcAttr = w.Env, w.SysProcAttr
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := w.Start(cmd)
		if err == nil {
			err = cmd.Wait()
		}
		b := []byte(stdout.String())
		if err != nil {
			out.ChildErr = fmt.Sprintf("%v: %s", err, stderr.String())
		} else {
			out.Child = new(report)
			if err := json.Unmarshal(b, out.Child); err != nil {
				out.ChildErr = err.Error()
			}
		}
	}
	json.NewEncoder(os.Stdout).Encode(out)
	return 0
}

// jail runs as uid 0 of a user namespace of its own (the test maps 0 and
// 65534): "limits" sets that namespace's limits on new user and network
// namespaces to zero, "nobody" then becomes uid 65534 with no capabilities.
func jail(how string) error {
	for _, what := range strings.Split(how, ",") {
		switch what {
		case "limits":
			for _, f := range []string{"/proc/sys/user/max_user_namespaces", "/proc/sys/user/max_net_namespaces"} {
				if err := os.WriteFile(f, []byte("0\n"), 0); err != nil {
					return err
				}
			}
		case "nobody":
			if err := syscall.Setgroups(nil); err != nil {
				return fmt.Errorf("setgroups: %w", err)
			}
			if err := syscall.Setgid(65534); err != nil {
				return fmt.Errorf("setgid: %w", err)
			}
			if err := syscall.Setuid(65534); err != nil {
				return fmt.Errorf("setuid: %w", err)
			}
		case "":
		default:
			return fmt.Errorf("bad %s %q", jailEnv, what)
		}
	}
	return nil
}

// readLine reads one line from r, for the hold helper's answer.
func readLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	return strings.TrimSpace(line), err
}
