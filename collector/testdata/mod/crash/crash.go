// Package crash is a collector fixture whose tests panic or exit.
package crash
