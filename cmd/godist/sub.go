package main

import (
	"fmt"
	"io"
)

func runWorker(args []string, stderr io.Writer) int {
	fmt.Fprintln(stderr, "godist worker: not wired yet")
	return 1
}

func runSocketServer(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "godist socketserver: not wired yet")
	return 1
}

func runExec(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "godist exec: not wired yet")
	return 1
}
