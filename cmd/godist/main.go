// Command godist is a distributed `go test` and an execnet for Go.
//
//	godist [godist flags] [build/test flags] [packages] [-args ...]
//	godist worker                       serve remote executions on stdin/stdout
//	godist socketserver [--listen ADDR] serve remote executions on TCP
//	godist exec [--tx SPEC]... FILE.go|-
//
// Run `godist help` for the flags.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/godist/godist/gateway"
)

func main() {
	gateway.MainIfWorker()
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is godist's whole command line; it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "worker":
			return runWorker(args[1:], stderr)
		case "socketserver":
			return runSocketServer(args[1:], stdout, stderr)
		case "exec":
			return runExec(args[1:], stdin, stdout, stderr)
		case "help", "-h", "-help", "--help":
			fmt.Fprint(stdout, usageText)
			return 0
		case "version", "--version":
			fmt.Fprintf(stdout, "godist %s\n", gateway.Version)
			return 0
		}
	}
	return runTests(args, stdout, stderr)
}

const usageText = `usage: godist [godist flags] [build/test flags] [packages] [-args ...]
       godist worker
       godist socketserver [--listen ADDR]
       godist exec [--tx SPEC]... FILE.go|-

godist runs go test distributed over workers: same packages, flags, output
and exit status as go test.

godist flags:
  -n N|auto        N local worker processes (default auto: one per CPU)
  --tx SPEC        gateway spec, repeatable: 4*popen, socket=HOST:PORT, exec=CMD
  --dist MODE      load (single tests, default), loadpkg (whole packages),
                   each (every worker runs everything), no (no workers)
  --history FILE   test-duration history file (default: user cache dir)

go test flags: -run -skip -count -short -v -json -timeout -failfast -shuffle
  -parallel -cpu -list -tags -race -cover -coverprofile -covermode -coverpkg
  -ldflags -gcflags -mod -trimpath -vet -p -args
`
