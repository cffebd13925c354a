package mixed

import (
	"fmt"
	"log"
	"os"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	fmt.Println("setup from TestMain")
	log.SetFlags(0)
	log.Print("package-level log line")
	code := m.Run()
	fmt.Println("teardown from TestMain")
	os.Exit(code)
}

func TestPass(t *testing.T) {
	t.Log("logging in pass")
	if Add(1, 2) != 3 {
		t.Fatal("bad")
	}
}

func TestFail(t *testing.T) {
	t.Errorf("expected failure %d", 42)
}

func TestSkip(t *testing.T) {
	t.Skip("skipping for a reason")
}

func TestSub(t *testing.T) {
	for _, name := range []string{"with space", "a/b", "dup", "dup", "dup"} {
		t.Run(name, func(t *testing.T) {
			t.Logf("in %s", name)
			if name == "a/b" {
				t.Run("deeper", func(t *testing.T) { t.Log("deep") })
			}
		})
	}
	t.Log("between children") // go test -v prints === NAME  TestSub first
	t.Run("failing child", func(t *testing.T) { t.Error("child fails") })
}

func TestParallel(t *testing.T) {
	for i := range 3 {
		t.Run(fmt.Sprint("p", i), func(t *testing.T) {
			t.Parallel()
			t.Log("parallel", i)
		})
	}
}

func TestNoNewline(t *testing.T) {
	fmt.Print("no newline here")
}

func TestLongLine(t *testing.T) {
	fmt.Println(strings.Repeat("x", 2500))
	t.Log(strings.Repeat("é", 700))
}

func TestAttr(t *testing.T) {
	t.Attr("key", "some value")
}

func TestPassAB(t *testing.T) {}

func ExampleAdd() {
	fmt.Println(Add(2, 2))
	// Output: 4
}

func ExampleAdd_wrong() {
	fmt.Println(Add(2, 2))
	// Output: 5
}
