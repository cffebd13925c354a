// Package suite is a testify suite: every method is a subtest of TestSuite.
package suite

import (
	"testing"
	"time"

	"github.com/stretchr/testify/suite"
)

type S struct{ suite.Suite }

func (s *S) SetupSuite()  { time.Sleep(20 * time.Millisecond) }
func (s *S) TestAlpha()   { time.Sleep(150 * time.Millisecond) }
func (s *S) TestBeta()    { time.Sleep(150 * time.Millisecond) }
func (s *S) TestGamma()   { time.Sleep(150 * time.Millisecond) }
func (s *S) TestDelta()   { time.Sleep(150 * time.Millisecond); s.Equal(1, 2, "delta fails") }
func (s *S) TestEpsilon() { time.Sleep(150 * time.Millisecond) }
func (s *S) TestZeta()    { time.Sleep(150 * time.Millisecond) }

func TestSuite(t *testing.T) { suite.Run(t, new(S)) }
