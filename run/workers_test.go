package run

import (
	"testing"
	"time"

	"github.com/godist/godist/gateway"
)

func TestStartTimeout(t *testing.T) {
	for _, tc := range []struct {
		specs []string
		want  time.Duration
	}{
		{[]string{"popen"}, workerStartTimeout},
		{[]string{"2*popen", "socket=127.0.0.1:1"}, workerStartTimeout},
		{[]string{"popen", "ssh=me@127.0.0.1:2222"}, sshStartTimeout},
	} {
		specs, err := gateway.ParseSpecs(tc.specs)
		if err != nil {
			t.Fatal(err)
		}
		if got := StartTimeout(specs); got != tc.want {
			t.Errorf("%q: start timeout %v, want %v", tc.specs, got, tc.want)
		}
	}
}
