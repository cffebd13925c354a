package examples

import "fmt"

func ExampleHello() {
	fmt.Println(Hello("world"))
	// Output: hello, world
}

func ExampleHello_unordered() {
	fmt.Println("b")
	fmt.Println("a")
	// Unordered output:
	// a
	// b
}

func ExampleHello_fails() {
	fmt.Println(Hello("moon"))
	fmt.Println("second line")
	// Output:
	// hello, world
	// second line
}

// ExampleHello_notRun has no Output comment: it is compiled, never run.
func ExampleHello_notRun() {
	panic("ExampleHello_notRun must not run")
}
