// Package allpass is a collector fixture whose tests all pass.
package allpass
