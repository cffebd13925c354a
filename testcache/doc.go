// Package testcache is go test's result cache for godist: go test's rules
// (cmd/go/internal/test: tryCacheWithID, computeTestInputsID, hashOpen,
// hashStat; Go 1.26), kept in a directory that several processes and
// machines may use at once.
//
// It starts no goroutines and holds no open files: a Cache is a directory
// name and options, safe for concurrent use, with nothing to close.
//
// # When a run may be cached
//
// CheckFlags makes go test's decision for a command line: only in package
// list mode (`go test ./...`, `go test .`, never bare `go test`), and only
// when every argument go test passes to the binary is a cacheable
// -test.NAME=VALUE: -benchtime -cpu -list -parallel -run -short -skip
// -timeout -failfast -v -fullpath enter the key (Flags.KeyArgs, in go
// test's order and spelling: -json adds -test.v=test2json, a missing
// -timeout adds -test.timeout=10m0s, $GOFLAGS's test flags come first);
// -coverprofile and -outputdir are allowed without entering it. Anything
// else disables caching: -count whatever its value (-count=1 and -count=2
// alike), -shuffle, -benchmem, profiles, unknown flags and -args values
// that are not cacheable -test.NAME=VALUE. Build flags do not enter the
// decision; they change the binary. Further, as in go test: a package
// outside any module, GOPATH or GOROOT is not cached (Package.Root
// empty: ErrNoRoot), nor a run that wrote no testlog (-list, or a binary
// that never reaches m.Run: ReadLog fails), nor a failing run
// (ErrNotPassed), nor one that read a regular file modified less than
// two seconds before the result is stored (ErrFileTooNew).
//
// # Keys: the binary without linking, then the binary
//
// The lookup has two levels, as in go test. The first is a Key: the test
// binary's identity and the KeyArgs (NewKey). go test takes the binary's
// identity from its link action ID, known before linking; godist asks go
// list instead. LinkKeys runs `go list -e -test -deps -export` once for
// all packages, and hashes, per test main package, the content ID (the
// second half of the build ID) of every package it links, their modules'
// versions, the build flags and the link-relevant go env settings: the
// linker's inputs, so equal keys mean equal binaries. Content IDs, not
// action IDs: a comment edit that leaves a package's compiled archive
// unchanged keeps the key, as it keeps go's link action ID. go list
// -export compiles what is stale (or finds it in the build cache) but
// links nothing. On golang.org/x/mod (9 test binaries, 46 MB; 2 shared
// cores, warm build cache, medians of 5) LinkKeys takes 0.19 s for all
// packages, `go test -c -o DIR/ ./...` 0.48 s; linking grows with binary
// size and count (a large module's binaries take a second or more each),
// go list does not. For comparison go test's fully cached run of the
// module takes 0.42 s.
//
// When the first level misses, the binary is built and ContentID gives
// the second identity: the content ID that ends the binary's Go build ID
// (read from the ELF note, in 30 µs a binary; other formats are searched
// for the build ID near their start; a binary without one is hashed
// whole, 4 ms a 5 MB binary). This is go's second lookup: a change that
// alters an archive but not the linked binary (a comment moving inlined
// code, a code change the compiler folds away) misses the first level and
// hits the second, as in go test. Put stores a run under both keys.
//
// # Inputs: what the tests consulted
//
// The second level is the inputs the run's tests consulted, which the
// testing package records when the binary gets -test.testlogfile=FILE:
// `getenv NAME`, `open PATH`, `stat PATH`, `chdir PATH` (os.ReadDir is an
// open of the directory). ParseLog resolves relative paths against the
// process's directory, and after a chdir against the new one; Merge
// unions the logs of a package's processes (godist runs one package as
// several), Rebase maps paths of a process that ran in a copy of the
// package directory. Put stores the inputs list under each Key (paths
// under Package.Root relative to it, opens and stats outside the root
// dropped: go never rechecks them) and the entry under the Key plus the
// hash of the inputs' current state; Get rereads the list, hashes the
// inputs as they are now and looks for an entry under that hash. The hash
// is go's: GODEBUG always, each variable's value (from Package.Env),
// for stat and chdir the Stat and Lstat information (size, mode, mtime),
// for open the same, plus a directory's entries with theirs; a regular
// file's content is not read (size and mtime stand for it, so an edit
// that keeps both keeps the result, in go test and here).
//
// # Sharing a cache between machines
//
// Options.Portable hashes inputs so that another machine can agree: a
// regular file's content instead of its mtime, directory entries without
// mtimes, paths relative to the module root, failures by kind. A result
// is reused on another machine when the binary is the same (same content
// ID: same toolchain, same sources and flags, and the same paths of the
// sources unless built with -trimpath, since the binary records them)
// and every input recorded has the same state there: the same values of
// the environment variables the tests read (HOME, PATH, USER, TMPDIR
// differ between machines and users: a test reading them is reused only
// where they agree), the same files under the module root. Files outside
// the root (/etc, $TMPDIR, other checkouts) are never checked, here as
// in go test: a test depending on them is reused regardless. All users
// of a directory must agree on Portable (the hashes differ); go's rules
// (Portable off) mostly miss across machines, since checkouts differ in
// mtimes. The two-second rule holds in both.
//
// # The directory
//
// The caller chooses it; a controller uses DefaultDir ($GODIST_CACHE,
// else godist/testcache under os.UserCacheDir()). Layout: DIR/v1/inputs/
// XX/KEY (the inputs list), DIR/v1/results/XX/HASH (the entry: events,
// coverage, cover profile, elapsed, with a SHA-256 over them), and
// DIR/v1/expire.txt. Every file is written under a temporary name in its
// directory and renamed into place, so readers see whole files; of
// concurrent writers of one entry the last rename wins, and all wrote a
// valid result. An entry that fails its checksum (a storage system
// without atomic renames, a truncated copy) is a miss. Get refreshes an
// entry's mtime, at most once an hour; Trim removes least recently used
// files beyond Options.MaxBytes (DefaultMaxBytes, 2 GiB), down to three
// quarters of it, and temporary files a dead writer left. Clean (godist
// clean -testcache) stamps expire.txt so that every older entry is a
// miss at once for every user, then deletes the files; writers that
// raced with it are not disturbed. Clocks of machines sharing a
// directory should agree within seconds for Clean's stamp.
//
// Cost (2 shared cores, local disk): Get of a package with 600 events and
// 20 inputs 0.2 ms, Put 1.8 ms (two files, inputs hashed), Replay 2.6 ms.
package testcache
