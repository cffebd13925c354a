// Package testcache is go test's result cache for godist, with go test's
// rules, in a directory that several processes and machines can share.
package testcache
