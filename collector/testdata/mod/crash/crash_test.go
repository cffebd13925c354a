package crash

import (
	"fmt"
	"os"
	"testing"
	"time"
)

func TestA(t *testing.T) { t.Log("A ran") }

func TestPanic(t *testing.T) {
	t.Run("inner", func(t *testing.T) {
		fmt.Println("about to panic")
		panic("boom")
	})
}

func TestExit(t *testing.T) {
	fmt.Println("about to exit")
	os.Exit(3)
}

func TestZ(t *testing.T) { t.Log("Z ran") }

func TestExitInSub(t *testing.T) {
	t.Run("child", func(t *testing.T) {
		t.Log("child about to exit")
		os.Exit(4)
	})
}

func TestHang(t *testing.T) {
	t.Log("hanging")
	time.Sleep(time.Hour)
}

func TestExitZero(t *testing.T) {
	os.Exit(0)
}

func TestLast(t *testing.T) {}
