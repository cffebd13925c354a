package a

import "testing"

type suite struct{}

// TestMethod is a method, not a test.
func (suite) TestMethod(t *testing.T) {}

func TestA(t *testing.T) {
	t.Run("sub", func(t *testing.T) {})
	t.Run("other", func(t *testing.T) {})
}

func TestAB(t *testing.T) {}

func TestA_B(t *testing.T) {}

func Test(t *testing.T) {}

// Testing is not a test: lower-case rune after "Test".
func Testing(t *testing.T) {}

func Test_x(t *testing.T) {}

func TestÄ(t *testing.T) {}

// Benchmarks are not run by -run.
func BenchmarkA(b *testing.B) {}
