package report

import (
	"errors"
	"fmt"
	"io"
	"os"

	"gotest.tools/gotestsum/testjson"
)

// Outputs says what one run shows and writes, as its command line asks:
// go test's text (the default), its -json stream or a gotestsum format on
// stdout, with gotestsum's summary, and files beside them.
type Outputs struct {
	JSON     bool   // -json: the event stream on stdout
	Format   string // --format: a gotestsum format name (FormatNames)
	Verbose  bool   // -v: text as go test -v; JSON as go test -json -v (subtest headers under their parent's)
	LocalDir bool   // go test run without package arguments prints as in local directory mode (text only)
	Summary  bool   // --summary: gotestsum's summary after go test's text

	JSONFile  string // --jsonfile: the stream, whatever stdout shows
	JUnitFile string // --junitfile: JUnit XML like gotestsum's
}

// Output is the renderers of one run, teed, with the run's Status. It is
// what the command line picks; the run feeds it events and closes it.
type Output struct {
	Renderer
	Status *Status
	// Ordered says the renderers want a package's events together and its
	// tests in go test's order, as one process would print them (text,
	// formats); false for the JSON stream, which may interleave.
	Ordered bool
	files   []*os.File
}

// newJSONOutput is the JSON stream on w, in go test -json -v's shape when
// verbose.
func newJSONOutput(w io.Writer, verbose bool) Renderer {
	if verbose {
		return newVerboseJSON(NewJSON(w))
	}
	return NewJSON(w)
}

// Open makes the Output for o: an unknown format is a *UsageError naming
// it; a file that cannot be created is an error naming the file.
func Open(o Outputs, stdout, stderr io.Writer) (*Output, error) {
	out := &Output{Status: &Status{}, Ordered: !o.JSON}
	var main Renderer
	switch {
	case o.JSON:
		main = newJSONOutput(stdout, o.Verbose)
	case o.Format != "":
		f, err := NewFormat(o.Format, stdout, stderr, FormatOptions{Summary: testjson.SummarizeAll})
		if err != nil {
			return nil, &UsageError{Err: fmt.Errorf("--format: %w", err)}
		}
		main = WithoutWorkerLines(f)
	default:
		main = NewTextOptions(stdout, stderr, TextOptions{Verbose: o.Verbose, LocalDir: o.LocalDir})
	}
	if !o.JSON {
		main = WithoutShardManifest(main)
	}
	rs := []Renderer{WithoutShardManifest(out.Status), main}
	if o.Summary && o.Format == "" && !o.JSON {
		rs = append(rs, WithoutShardManifest(WithoutWorkerLines(NewSummary(stdout, testjson.SummarizeAll))))
	}
	if o.JSONFile != "" {
		f, err := out.create(o.JSONFile)
		if err != nil {
			return nil, errors.Join(err, Tee(rs...).Close())
		}
		rs = append(rs, newJSONOutput(f, o.Verbose))
	}
	if o.JUnitFile != "" {
		f, err := out.create(o.JUnitFile)
		if err == nil {
			var j Renderer
			if j, err = NewJUnit(f, JUnitOptions{}); err == nil {
				rs = append(rs, WithoutShardManifest(WithoutWorkerLines(j)))
			}
		}
		if err != nil {
			return nil, errors.Join(err, Tee(rs...).Close(), out.closeFiles())
		}
	}
	out.Renderer = Tee(rs...)
	return out, nil
}

func (o *Output) create(path string) (*os.File, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	o.files = append(o.files, f)
	return f, nil
}

func (o *Output) closeFiles() error {
	var err error
	for _, f := range o.files {
		err = errors.Join(err, f.Close())
	}
	o.files = nil
	return err
}

// Close closes the renderers, then the files they write.
func (o *Output) Close() error {
	err := o.Renderer.Close()
	return errors.Join(err, o.closeFiles())
}
