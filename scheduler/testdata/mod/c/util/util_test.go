package util

import "testing"

func TestC(t *testing.T) {}
