package isolate

import (
	"bufio"
	"bytes"
	"regexp"
	"strings"
)

// hostNetwork matches what Go (and most tools) print when a process in a
// network namespace with only lo up tries to reach the host: any address
// off loopback is unreachable (ENETUNREACH), a DNS server too, and a
// server on the host's loopback is simply not there (ECONNREFUSED).
var hostNetwork = regexp.MustCompile(`(?i)` +
	`network is unreachable` +
	`|lookup \S+ on \S+: .*(connection refused|no route to host)` +
	`|dial (tcp|udp)[46]? (127\.\d+\.\d+\.\d+|\[::1\]|localhost):\d+: connect: connection refused`)

// HostNetworkHint returns the first line of a failed test's output that
// looks like the test tried to reach the host's network from its
// namespace, or "" when none does. A failure with a hint is worth running
// again without isolation before it counts: if it passes there, the test
// needs the host (a database on localhost, DNS, the internet). The
// patterns are loose: a refused loopback connection can also be a plain
// bug, which costs one rerun, nothing more.
func HostNetworkHint(output []byte) string {
	if !bytes.Contains(output, []byte("unreachable")) && !bytes.Contains(output, []byte("refused")) &&
		!bytes.Contains(output, []byte("route")) {
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(output))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if line := sc.Text(); hostNetwork.MatchString(line) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}
