// Package buildfail is a collector fixture whose test does not compile.
package buildfail
