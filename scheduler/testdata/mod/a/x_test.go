package a_test

import (
	"fmt"
	"testing"

	"example.com/mod/a"
)

func Test(t *testing.T) {}

func TestX(t *testing.T) {
	if a.Foo() != 1 {
		t.Fatal("bad")
	}
}

func FuzzX(f *testing.F) {
	f.Add("seed")
	f.Fuzz(func(t *testing.T, s string) {})
}

func ExampleFoo() {
	fmt.Println(a.Foo())
	// Output: 1
}

func ExampleFoo_noOutput() {
	fmt.Println(a.Foo())
}

func Example_unordered() {
	fmt.Println(1)
	fmt.Println(2)
	// Unordered output:
	// 2
	// 1
}

func ExampleFoo_empty() {
	// Output:
}

func Examplelower() {
	// Output:
}
