package allpass

import (
	"fmt"
	"testing"
)

func TestMain(m *testing.M) {
	fmt.Println("hello from TestMain")
	m.Run()
}

func TestOne(t *testing.T)   { t.Log("one") }
func TestTwo(t *testing.T)   { t.Run("child", func(t *testing.T) { t.Log("two/child") }) }
func TestThree(t *testing.T) { t.Skip("three skipped") }
func TestFour(t *testing.T)  {}
func TestFive(t *testing.T)  { fmt.Println("five says hi") }
func TestSix(t *testing.T)   { t.Parallel(); t.Log("six") }
