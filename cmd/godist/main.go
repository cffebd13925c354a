// Command godist is a distributed `go test` and an execnet for Go.
//
//	godist [godist flags] [build/test flags] [packages] [-args ...]
//	godist worker                       serve remote executions on stdin/stdout
//	godist socketserver [--listen ADDR] [--token-file F | --insecure-no-auth] [--tls-cert F --tls-key F]
//	                                    serve remote executions on TCP
//	godist exec [--tx SPEC]... FILE.go|-
//	godist merge [-json|--format NAME] FILE...  combine CI shards' -json streams
//
//	godist version                      module version, VCS revision, Go version, platform
//	godist help [COMMAND]               this help, or a command's
//
// Run `godist help` for the flags.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/godist/godist/gateway"
	"github.com/godist/godist/gotool"
	"github.com/godist/godist/internal/proc"
	"github.com/godist/godist/isolate"
	"github.com/godist/godist/workers"
)

func main() {
	isolate.MainIfShim()  // first: under --isolate, may become a test binary in its namespaces
	workers.MainIfGuard() // a test binary's parent, when a worker asks
	proc.MainIfWatchdog() // kills go test's test binaries should godist be killed
	gateway.MainIfWorker()
	gotool.MainIfBuildShim()                     // run by our own go test -exec (gotool.BuildExec)
	gateway.DefaultOptions.WorkerFor = workerFor // selfbuild.go: ssh hosts of another platform
	os.Exit(command(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// command is godist's whole command line; it returns the exit status.
func command(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 1 && isHelpFlag(args[1]) && args[0] != "help" {
		for _, c := range subcommands {
			if c.name == args[0] {
				return runHelp(args[:1], stdout, stderr) // `godist merge -h`: help asked for, status 0
			}
		}
	}
	if len(args) > 0 {
		switch args[0] {
		case "worker":
			return runWorker(args[1:], stderr)
		case "socketserver":
			return runSocketServer(args[1:], stdout, stderr)
		case "exec":
			return runExec(args[1:], stdin, stdout, stderr)
		case "merge":
			return runMerge(args[1:], stdout, stderr)
		case "help":
			return runHelp(args[1:], stdout, stderr)
		case "-h", "-help", "--help":
			fmt.Fprint(stdout, usageText)
			return 0
		case "version", "--version":
			if len(args) > 1 {
				fmt.Fprintf(stderr, "usage: godist version\ngodist version: unexpected arguments %q\n", args[1:])
				return 2
			}
			fmt.Fprint(stdout, versionText())
			return 0
		}
	}
	return runTests(args, stdout, stderr)
}

const usageText = `usage: godist [godist flags] [build/test flags] [packages] [-args ...]
       godist worker
       godist socketserver [--listen ADDR] [--token-file F | --insecure-no-auth] [--tls-cert F --tls-key F]
       godist exec [--tx SPEC]... FILE.go|-
       godist merge [-json|-v|--format NAME] [--jsonfile F] [--junitfile F] FILE...|--queue URL
       godist version
       godist help [COMMAND]

godist runs go test distributed over workers: same packages, flags, output
and exit status as go test.

godist flags:
  -n N|auto        N local worker processes (default auto: one per CPU)
  --tx SPEC        gateway spec, repeatable: 4*popen, socket=HOST:PORT,
                   ssh=[USER@]HOST[:PORT], exec=CMD
  --dist MODE      load (single tests, default), loadpkg (whole packages),
                   each (every worker runs everything, reported as PKG@gwN),
                   no (no workers, like go test); without --dist a suite
                   the history knows to be tiny runs as one go test command
  --history FILE   test-duration history file (default: user cache dir)
  --rsyncdir DIR   ship DIR too with the test bundles of ssh and socket
                   workers (repeatable; a package's own files and testdata
                   always go)
  --shard I/N      run part I of N (CI matrices): every job makes the same
                   split; combine the parts' -json streams with godist merge,
                   which refuses a set that is not one whole run
  --queue URL      CI jobs share one run through Redis (redis://HOST:PORT/RUN,
                   rediss:// for TLS, password in the URL or in
                   $GODIST_QUEUE_PASSWORD): each job runs what the queue hands
                   out; godist merge --queue URL reports the whole run
  --queue-lease D  a job silent for D loses its units to the others
                   (default 30s)
  --format NAME    gotestsum format: testname, dots, dots-v2, pkgname,
                   pkgname-and-test-fails, standard-quiet, standard-verbose,
                   github-actions, testdox
  --jsonfile FILE  also write the go test -json stream to FILE
  --junitfile FILE also write JUnit XML (gotestsum's shape) to FILE
  --test-timeout D stop a single test after D, with a goroutine dump
  --keepalive D    take a worker that sends nothing for D (not even an
                   answer to a ping, sent every D/3) for lost and run its
                   tests elsewhere (default 15s; 0: never)
  --rerun-fails[=N] rerun failed tests up to N times (default 2); flaky
                   tests that pass on a rerun do not fail the run
  --maxfail N      stop scheduling after N failed tests
  --slowest N      list the N slowest tests at the end
  --summary        print gotestsum's summary (counts, failures) after the text
  --max-worker-restart N  replace lost popen workers at most N times
                   (default 4 x workers)
  --worker-attr=false  do not report which worker ran each test (by default
                   -v prints "=== ATTR  TestX godist.worker gw3", -json an
                   attr event, JUnit a test case property)

go test flags: -C DIR (first) -run -skip -count -short -v -json -timeout
  -failfast -shuffle -parallel -cpu -list -tags -race -cover -coverprofile
  -covermode -coverpkg -ldflags -gcflags -mod -trimpath -vet -p -args
`
