// Command firstline runs a command and reports how long it took to print
// its first line, its first line matching -match, and to exit: the
// "results come late" figures of issue 18 (time to the first package line,
// to the first -v line, to the first JSON event), go test against godist.
//
//	go run ./bench/firstline [-C DIR] [-match RE] [-reps N] -- CMD ARGS...
//
// Each repetition runs CMD in DIR with stdout piped (as under CI, not a
// terminal); the figures printed are the medians over the repetitions.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"time"
)

var verbose bool

func main() {
	dir := flag.String("C", "", "run the command in `DIR`")
	match := flag.String("match", "", "also time the first line matching `RE`")
	reps := flag.Int("reps", 3, "repetitions; the medians are printed")
	flag.BoolVar(&verbose, "v", false, "print every line with its time")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: firstline [-C DIR] [-match RE] [-reps N] -- CMD ARGS...")
		os.Exit(2)
	}
	var re *regexp.Regexp
	if *match != "" {
		re = regexp.MustCompile(*match)
	}
	var first, matched, total []time.Duration
	for range *reps {
		f, m, t, err := once(*dir, re, flag.Args())
		if err != nil {
			fmt.Fprintln(os.Stderr, "firstline:", err)
			os.Exit(1)
		}
		first, matched, total = append(first, f), append(matched, m), append(total, t)
	}
	fmt.Printf("%-50s first line %6.2fs", strings.Join(flag.Args(), " "), median(first).Seconds())
	if re != nil {
		fmt.Printf("  first %q %6.2fs", *match, median(matched).Seconds())
	}
	fmt.Printf("  exit %6.2fs\n", median(total).Seconds())
}

// once runs the command once; a line never seen counts as the exit time.
func once(dir string, re *regexp.Regexp, args []string) (first, matched, total time.Duration, err error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, 0, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, 0, err
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		since := time.Since(start)
		if verbose {
			fmt.Printf("%6.2fs %s\n", since.Seconds(), sc.Text())
		}
		if first == 0 {
			first = since
		}
		if re != nil && matched == 0 && re.MatchString(sc.Text()) {
			matched = since
		}
	}
	_ = cmd.Wait() // a failing suite exits 1: still a run
	total = time.Since(start)
	if first == 0 {
		first = total
	}
	if matched == 0 {
		matched = total
	}
	return first, matched, total, nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
