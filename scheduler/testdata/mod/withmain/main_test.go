package withmain

import (
	"fmt"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	fmt.Println("setup")
	os.Exit(m.Run())
}

func TestOne(t *testing.T) {}
