// Package corpus pins real public test suites for `make bench`: their tests
// run in place from the module cache, the way `go test MODULE/...` runs them.
package corpus

import (
	_ "github.com/gofiber/fiber/v2"
	_ "github.com/hashicorp/raft"
	_ "k8s.io/apimachinery/pkg/runtime"
)
