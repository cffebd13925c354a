package main

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// subcommands are godist's commands other than running tests, with their
// one-line usage; `godist help NAME` and `godist NAME -h` print it and the
// command's flags.
var subcommands = []struct{ name, usage, about string }{
	{"worker", "godist worker", "serve remote executions on stdin/stdout (started by popen, ssh and exec gateways)"},
	{"socketserver", "godist socketserver [--listen ADDR] [--token-file F | --insecure-no-auth] [--tls-cert F --tls-key F]",
		"serve remote executions on TCP, to controllers that know the shared token"},
	{"exec", "godist exec [--tx SPEC]... FILE.go|-", "remote-exec FILE.go on each gateway; stdin lines (JSON) go to every execution, what they send comes back as JSON lines"},
	{"merge", "godist merge [-json|-v|--format NAME] [--jsonfile F] [--junitfile F] [--history F] FILE... | --queue URL [--wait D]",
		"combine the -json streams of CI shards (godist --shard I/N -json or --jsonfile) into one run's report; the exit status is the combined run's; a set that is not one whole run (a shard missing or doubled, shards of different plans, a stream cut short) is refused with status 2; with --queue, wait for every unit of the --queue run at URL and report them (status 1 and the missing units named if some have no result by the deadline)"},
	{"version", "godist version", "print godist's module version, VCS revision, Go version and platform"},
	{"help", "godist help [COMMAND]", "print the help of godist or of one of its commands"},
}

// isHelpFlag reports whether arg asks for help, as the flag package sees it.
func isHelpFlag(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "--h"
}

// runHelp is `godist help [COMMAND]`: help asked for is not an error, so
// it goes to stdout with status 0; an unknown command is a usage error.
func runHelp(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stdout, usageText)
		return 0
	}
	if len(args) > 1 {
		fmt.Fprintf(stderr, "usage: godist help [COMMAND]\ngodist help: too many arguments\n")
		return 2
	}
	for _, c := range subcommands {
		if c.name != args[0] {
			continue
		}
		fmt.Fprintf(stdout, "usage: %s\n\n%s.\n", c.usage, c.about)
		if flags := commandFlags(c.name); flags != "" {
			fmt.Fprintf(stdout, "\nflags:\n%s", flags)
		}
		return 0
	}
	names := make([]string, len(subcommands))
	for i, c := range subcommands {
		names[i] = c.name
	}
	fmt.Fprintf(stderr, "godist help %s: unknown command (commands: %s; `godist help` for running tests)\n", args[0], strings.Join(names, ", "))
	return 2
}

// commandFlags returns the flag list of a command with a flag set, as the
// flag package prints it for -h, taken from the command itself so that it
// cannot drift from what the command accepts.
func commandFlags(name string) string {
	var out bytes.Buffer
	switch name {
	case "merge":
		runMerge([]string{"-h"}, io.Discard, &out)
	case "socketserver":
		runSocketServer([]string{"-h"}, io.Discard, &out)
	case "exec":
		runExec([]string{"-h"}, strings.NewReader(""), io.Discard, &out)
	default:
		return ""
	}
	s := out.String()
	if _, rest, ok := strings.Cut(s, ":\n"); ok && strings.HasPrefix(s, "Usage of ") {
		s = rest // the flag package's "Usage of godist merge:" line
	}
	return s
}

// versionText is `godist version`: the module version and VCS revision of
// the build (runtime/debug.ReadBuildInfo: "v1.2.3" for `go install
// …@v1.2.3`, a pseudo-version or "(devel)" for a build from a checkout,
// with the commit when the build stamped it), then the Go version and the
// platform, as `go version` prints them.
func versionText() string {
	version, rev := "(devel)", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" {
			version = v
		}
		var revision, when string
		var modified bool
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if revision != "" {
			rev = " " + revision[:min(len(revision), 12)]
			if modified {
				rev += "+dirty"
			}
			if when != "" {
				rev += " " + when
			}
		}
	}
	return fmt.Sprintf("godist %s%s %s %s/%s\n", version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
