// Package exits: TestD calls os.Exit(3) mid-test; TestE would pass but
// never runs in the same process as TestD.
package exits

import (
	"fmt"
	"os"
	"testing"
)

func TestD(t *testing.T) {
	fmt.Println("D about to exit")
	os.Exit(3)
}

func TestE(t *testing.T) {}
