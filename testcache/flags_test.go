package testcache

import (
	"slices"
	"strings"
	"testing"
)

func TestCheckFlags(t *testing.T) {
	for _, tc := range []struct {
		args      string
		goflags   string
		cacheable bool
		key       string // KeyArgs joined by spaces
	}{
		{"./...", "", true, "-test.timeout=10m0s"},
		{"-v ./...", "", true, "-test.timeout=10m0s -test.v=true"},
		{"-json ./...", "", true, "-test.v=test2json -test.timeout=10m0s"},
		{"-json -v ./...", "", true, "-test.v=test2json -test.timeout=10m0s -test.v=true"},
		{"-run X -short ./...", "", true, "-test.timeout=10m0s -test.run=X -test.short=true"},
		{"./... -run=X", "", true, "-test.timeout=10m0s -test.run=X"},
		{"-timeout 60s ./...", "", true, "-test.timeout=1m0s"},
		{"-test.run=X ./...", "", true, "-test.timeout=10m0s -test.run=X"},
		{"-parallel 04 -cpu 1,2 -failfast -fullpath -benchtime 2x -skip Y -list . ./...", "", true,
			"-test.timeout=10m0s -test.parallel=4 -test.cpu=1,2 -test.failfast=true -test.fullpath=true -test.benchtime=2x -test.skip=Y -test.list=."},
		{"-coverprofile c.out -outputdir /tmp ./...", "", true, "-test.timeout=10m0s"},
		{"-race -tags x -cover -covermode atomic -ldflags -s ./...", "", true, "-test.timeout=10m0s"},
		{"./... -args -test.run=X", "", true, "-test.timeout=10m0s -test.run=X"},
		{"./...", "-buildvcs=false -v", true, "-test.v=true -test.timeout=10m0s"},
		{"-json ./...", "-v", true, "-test.v=test2json -test.timeout=10m0s"},
		{"-v ./...", "-run=A", true, "-test.run=A -test.timeout=10m0s -test.v=true"},
		{"-run=B ./...", "-run=A", true, "-test.timeout=10m0s -test.run=B"},

		{"", "", false, ""},
		{"-v", "", false, ""},
		{"-count=1 ./...", "", false, ""},
		{"-count=3 ./...", "", false, ""},
		{"./...", "-count=1", false, ""},
		{"-shuffle on ./...", "", false, ""},
		{"-benchmem ./...", "", false, ""},
		{"-bench . ./...", "", false, ""},
		{"-cpuprofile x ./...", "", false, ""},
		{"./... -args -custom", "", false, ""},
		{"./... -args -test.v", "", false, ""},
		{"./... -custom=1", "", false, ""},
		{"./... --", "", false, ""},
		{"./... -run", "", false, ""},
	} {
		f := CheckFlags(strings.Fields(tc.args), tc.goflags)
		if f.Cacheable != tc.cacheable || strings.Join(f.KeyArgs, " ") != tc.key {
			t.Errorf("CheckFlags(%q, GOFLAGS=%q) = cacheable %v key %q (%s), want %v %q",
				tc.args, tc.goflags, f.Cacheable, f.KeyArgs, f.Reason, tc.cacheable, tc.key)
		}
		if !f.Cacheable && f.Reason == "" {
			t.Errorf("CheckFlags(%q): no reason", tc.args)
		}
	}
}

// TestCheckFlagsLikeGoTest asks go test itself: a command line is
// cacheable iff running it twice says (cached) the second time.
func TestCheckFlagsLikeGoTest(t *testing.T) {
	skipShort(t)
	fx := newFixture(t, map[string]string{
		"p/p_test.go": "package p\n\nimport \"testing\"\n\nfunc TestP(t *testing.T) {}\n\nfunc BenchmarkP(b *testing.B) {}\n",
	})
	fx.env = append(fx.env, "GOFLAGS=")
	for _, args := range []string{
		"", "-v", "-json", "-run=P -short", "-timeout=1m -parallel=2 -cpu=1 -failfast -fullpath",
		"-skip=Q -benchtime=1x", "-coverprofile=" + t.TempDir() + "/c.out",
		"-count=1", "-count=2", "-shuffle=on", "-benchmem", "-args -x", "-args -test.short=true",
	} {
		a := strings.Fields(args)
		fx.goTest("./p", a...)
		goCached, _ := fx.goTest("./p", a...)
		f := CheckFlags(append(slices.Clone(a), "./p"), "")
		// -list is a cacheable flag, but a listing binary writes no
		// testlog, so neither go test nor godist stores its result
		// (TestNotCachedLikeGoTest).
		if f.Cacheable != goCached {
			t.Errorf("%q: go test cached=%v, CheckFlags %v (%s)", args, goCached, f.Cacheable, f.Reason)
		}
	}
}

// TestKeyArgsLikeGoTest: two cacheable command lines share a result in go
// test iff their KeyArgs are equal.
func TestKeyArgsLikeGoTest(t *testing.T) {
	skipShort(t)
	fx := newFixture(t, map[string]string{
		"p/p_test.go": "package p\n\nimport \"testing\"\n\nfunc TestP(t *testing.T) {}\n",
	})
	fx.env = append(fx.env, "GOFLAGS=")
	for i, pair := range [][2]string{
		{"-run=P", "-run P"},
		{"-v", "-v=true"},
		{"-timeout=60s", "-timeout=1m"},
		{"", "-timeout=10m"},
		{"-coverprofile=" + t.TempDir() + "/a", "-coverprofile=" + t.TempDir() + "/b"},
		{"-run=P -short", "-short -run=P"},
		{"-json", "-v"},
		{"-short", "-short=false"},
	} {
		// A distinct -skip per pair keeps pairs from seeing each other.
		tag := []string{"-skip=NoSuchTest" + strings.Repeat("x", i)}
		a, b := append(strings.Fields(pair[0]), tag...), append(strings.Fields(pair[1]), tag...)
		fx.goTest("./p", a...)
		goShared, _ := fx.goTest("./p", b...)
		fa, fb := CheckFlags(append(a, "./p"), ""), CheckFlags(append(b, "./p"), "")
		if shared := slices.Equal(fa.KeyArgs, fb.KeyArgs); shared != goShared {
			t.Errorf("%q then %q: go test shared=%v, KeyArgs %q vs %q", pair[0], pair[1], goShared, fa.KeyArgs, fb.KeyArgs)
		}
	}
}
