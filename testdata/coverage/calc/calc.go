// Package calc has one function per test, and one no test covers: a
// package split over processes covers a part of it in each.
package calc

func A(x int) int {
	if x > 0 {
		return x + 1
	}
	return x - 1
}

func B(x int) int { return x * 2 }

func C(x int) int {
	s := 0
	for i := 0; i < x; i++ {
		s += i
	}
	return s
}

func D(x int) int { return x % 3 }

func Uncovered(x int) int {
	if x > 10 {
		return 10
	}
	return x
}

// Child is covered only by a process a test starts (TestChild): go test
// counts what that process covers too.
func Child(x int) int {
	if x > 0 {
		return x * x
	}
	return 0
}
