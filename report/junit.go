package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path"
	"slices"
	"strings"
	"time"

	"gotest.tools/gotestsum/testjson"
)

// JUnitOptions configures NewJUnit. The fields mirror gotestsum's
// --junitfile-* flags.
type JUnitOptions struct {
	// ProjectName is the name attribute of <testsuites>, omitted if empty.
	ProjectName string
	// SuiteName and CaseClassname format the package path in a suite's
	// name and a test case's classname: "full" (or ""), "relative" (module
	// prefix removed, as testjson.RelativePackagePath) or "short" (last
	// element).
	SuiteName, CaseClassname string
	// HideEmptyPackages leaves out packages without tests;
	// HideSkippedTests leaves out skipped tests.
	HideEmptyPackages, HideSkippedTests bool
	// GoVersion is the go.version property of each suite. Empty means as
	// gotestsum does: $GOVERSION if set, else `go version` without its
	// "go version " prefix.
	GoVersion string
}

// JUnitFieldFormats lists the values JUnitOptions.SuiteName and
// CaseClassname accept.
var JUnitFieldFormats = []string{"full", "relative", "short"}

// NewJUnit returns a Renderer that writes, at Close, a JUnit XML report of
// the stream to w in the shape of gotestsum's --junitfile: one <testsuite>
// per package with a go.version property, test cases failed first (a
// failed TestMain as a "TestMain" case), then skipped, then passed, each
// failure carrying the test's output. It starts a goroutine like
// NewFormat; Close waits for it.
func NewJUnit(w io.Writer, opts JUnitOptions) (Renderer, error) {
	suiteName, err := junitField(opts.SuiteName)
	if err != nil {
		return nil, err
	}
	className, err := junitField(opts.CaseClassname)
	if err != nil {
		return nil, err
	}
	r := newFormat("none", io.Discard, io.Discard, FormatOptions{})
	r.after = func(exec *testjson.Execution) error {
		version := opts.GoVersion
		if version == "" {
			version = goVersion()
		}
		doc := junitReport(exec, opts, suiteName, className, version)
		b, err := xml.MarshalIndent(doc, "", "\t")
		if err != nil {
			return fmt.Errorf("report: junit: %w", err)
		}
		if _, err := io.WriteString(w, xml.Header); err != nil {
			return fmt.Errorf("report: junit: %w", err)
		}
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("report: junit: %w", err)
		}
		return nil
	}
	return r, nil
}

// junitField returns the formatter of a JUnitOptions field format.
func junitField(name string) (func(string) string, error) {
	switch name {
	case "", "full":
		return func(s string) string { return s }, nil
	case "relative":
		return testjson.RelativePackagePath, nil
	case "short":
		return path.Base, nil
	}
	return nil, fmt.Errorf("report: junit: unknown field format %q (valid: %s)", name, strings.Join(JUnitFieldFormats, ", "))
}

func goVersion() string {
	if v, ok := os.LookupEnv("GOVERSION"); ok {
		return v
	}
	out, err := exec.Command("go", "version").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimPrefix(strings.TrimSpace(string(out)), "go version ")
}

type junitSuites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Name     string   `xml:"name,attr,omitempty"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Time     string   `xml:"time,attr"`
	Suites   []junitSuite
}

type junitSuite struct {
	XMLName    xml.Name        `xml:"testsuite"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Skipped    int             `xml:"skipped,attr,omitempty"`
	Time       string          `xml:"time,attr"`
	Name       string          `xml:"name,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase
	Timestamp  string `xml:"timestamp,attr"`
}

type junitCase struct {
	XMLName    xml.Name         `xml:"testcase"`
	Classname  string           `xml:"classname,attr"`
	Name       string           `xml:"name,attr"`
	Time       string           `xml:"time,attr"`
	Properties *junitProperties `xml:"properties,omitempty"`
	Skipped    *junitSkipped    `xml:"skipped,omitempty"`
	Failure    *junitFailure    `xml:"failure,omitempty"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// junitProperties wraps the test case <properties>, which encoding/xml
// would otherwise always write.
type junitProperties struct {
	List []junitProperty `xml:"property,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitFailure struct {
	Message  string `xml:"message,attr"`
	Type     string `xml:"type,attr"`
	Contents string `xml:",chardata"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%f", d.Seconds()) }

func junitReport(exec *testjson.Execution, opts JUnitOptions, suiteName, className func(string) string, version string) junitSuites {
	total := exec.Total()
	if opts.HideSkippedTests {
		total -= len(exec.Skipped())
	}
	doc := junitSuites{
		Name:     opts.ProjectName,
		Tests:    total,
		Failures: len(exec.Failed()),
		Errors:   len(exec.Errors()),
		Time:     seconds(exec.Elapsed()),
	}
	for _, name := range exec.Packages() {
		pkg := exec.Package(name)
		if opts.HideEmptyPackages && pkg.IsEmpty() {
			continue
		}
		tests, skipped := pkg.Total, pkg.Skipped
		if opts.HideSkippedTests {
			tests -= len(skipped)
			skipped = nil
		}
		doc.Suites = append(doc.Suites, junitSuite{
			Name:       suiteName(name),
			Tests:      tests,
			Failures:   len(pkg.Failed),
			Skipped:    len(skipped),
			Time:       seconds(pkg.Elapsed()),
			Properties: []junitProperty{{Name: "go.version", Value: version}},
			Cases:      junitCases(pkg, skipped, className),
			Timestamp:  pkg.Start.Format(time.RFC3339),
		})
	}
	return doc
}

func junitCases(pkg *testjson.Package, skipped []testjson.TestCase, className func(string) string) []junitCase {
	cases := []junitCase{}
	if pkg.TestMainFailed() {
		var out bytes.Buffer
		_ = pkg.WriteOutputTo(&out, 0)
		c := newJUnitCase(testjson.TestCase{Test: "TestMain"}, className)
		c.Failure = &junitFailure{Message: "Failed", Contents: out.String()}
		cases = append(cases, c)
	}
	for _, tc := range pkg.Failed {
		c := newJUnitCase(tc, className)
		c.Failure = &junitFailure{Message: "Failed", Contents: strings.Join(pkg.OutputLines(tc), "")}
		cases = append(cases, c)
	}
	for _, tc := range skipped {
		c := newJUnitCase(tc, className)
		c.Skipped = &junitSkipped{Message: strings.Join(pkg.OutputLines(tc), "")}
		cases = append(cases, c)
	}
	for _, tc := range pkg.Passed {
		cases = append(cases, newJUnitCase(tc, className))
	}
	return cases
}

func newJUnitCase(tc testjson.TestCase, className func(string) string) junitCase {
	c := junitCase{
		Classname: className(tc.Package),
		Name:      tc.Test.Name(),
		Time:      seconds(tc.Elapsed),
	}
	if len(tc.Attributes) > 0 {
		props := &junitProperties{}
		for _, k := range slices.Sorted(maps.Keys(tc.Attributes)) {
			props.List = append(props.List, junitProperty{Name: k, Value: tc.Attributes[k]})
		}
		c.Properties = props
	}
	return c
}
