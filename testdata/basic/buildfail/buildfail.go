// Package buildfail compiles, but its test file does not.
package buildfail

// Y is here so the package itself builds.
const Y = 2
