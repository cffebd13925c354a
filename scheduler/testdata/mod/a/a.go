package a

// Foo is the package's only function.
func Foo() int { return 1 }
