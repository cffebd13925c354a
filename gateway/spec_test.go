package gateway

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	tests := []struct {
		in    string
		want  Spec
		count int
	}{
		{in: "popen", want: Spec{Kind: "popen", Raw: "popen"}, count: 1},
		{in: "popen//id=a", want: Spec{Kind: "popen", ID: "a", Raw: "popen//id=a"}, count: 1},
		{in: "3*popen//nice=5", want: Spec{Kind: "popen", Nice: 5, Raw: "popen//nice=5"}, count: 3},
		{in: "popen//chdir=/tmp/x//env:A=1//env:B_2=x=y", want: Spec{Kind: "popen", Chdir: "/tmp/x",
			Env: map[string]string{"A": "1", "B_2": "x=y"}, Raw: "popen//chdir=/tmp/x//env:A=1//env:B_2=x=y"}, count: 1},
		{in: "socket=127.0.0.1:8888", want: Spec{Kind: "socket", Addr: "127.0.0.1:8888", Raw: "socket=127.0.0.1:8888"}, count: 1},
		{in: "socket=[::1]:80//id=v6", want: Spec{Kind: "socket", Addr: "[::1]:80", ID: "v6", Raw: "socket=[::1]:80//id=v6"}, count: 1},
		{in: "exec=docker exec -i c godist worker", want: Spec{Kind: "exec", Command: "docker exec -i c godist worker",
			Raw: "exec=docker exec -i c godist worker"}, count: 1},
		{in: "2*exec=kubectl exec -i p -- godist worker//env:X=1", want: Spec{Kind: "exec",
			Command: "kubectl exec -i p -- godist worker", Env: map[string]string{"X": "1"},
			Raw: "exec=kubectl exec -i p -- godist worker//env:X=1"}, count: 2},
		{in: "ssh=host", want: Spec{Kind: "ssh", Addr: "host", Raw: "ssh=host"}, count: 1},
		{in: "ssh=me@host:2222//id=r", want: Spec{Kind: "ssh", User: "me", Addr: "host:2222", ID: "r", Raw: "ssh=me@host:2222//id=r"}, count: 1},
		{in: "popen//nice=-3", want: Spec{Kind: "popen", Nice: -3, Raw: "popen//nice=-3"}, count: 1},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSpec(tt.in)
			if err != nil {
				t.Fatalf("ParseSpec(%q): %v", tt.in, err)
			}
			if len(got) != tt.count {
				t.Fatalf("ParseSpec(%q) gave %d specs, want %d", tt.in, len(got), tt.count)
			}
			for _, sp := range got {
				if !reflect.DeepEqual(sp, tt.want) {
					t.Errorf("ParseSpec(%q) = %+v, want %+v", tt.in, sp, tt.want)
				}
				again, err := ParseSpec(sp.String())
				if err != nil || len(again) != 1 {
					t.Fatalf("ParseSpec(String() = %q): %v", sp.String(), err)
				}
				again[0].Raw = sp.Raw
				if !reflect.DeepEqual(again[0], sp) {
					t.Errorf("round trip via %q = %+v, want %+v", sp.String(), again[0], sp)
				}
			}
			if tt.count > 1 && got[0].Env != nil {
				got[0].Env["mutated"] = "x"
				if _, ok := got[1].Env["mutated"]; ok {
					t.Error("copies share their Env map")
				}
			}
		})
	}
}

func TestParseSpecErrors(t *testing.T) {
	tests := []struct {
		in, mention string
	}{
		{"", "empty spec"},
		{"0*popen", `"0"`},
		{"popn", `"popn"`},
		{"popen=x", `"x"`},
		{"popen//idd=a", `"idd"`},
		{"popen//id", `"id"`},
		{"popen//id=a//id=b", `"id"`},
		{"popen//nice=abc", `"abc"`},
		{"popen//nice=99", `"99"`},
		{"popen//env:1X=a", `"1X"`},
		{"popen//chdir=", "chdir"},
		{"socket=localhost", `"localhost"`},
		{"socket=:80", `":80"`},
		{"socket=host:http", `"http"`},
		{"socket=host:70000", `"70000"`},
		{"exec=", "command"},
		{"exec=  ", "command"},
		{"ssh=", "HOST"},
		{"ssh=@h", "user"},
		{"2*popen//id=same", `"same"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseSpec(tt.in)
			var se *SpecError
			if !errors.As(err, &se) {
				t.Fatalf("ParseSpec(%q) error = %v, want *SpecError", tt.in, err)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("ParseSpec(%q) error %q does not mention %s", tt.in, err, tt.mention)
			}
		})
	}
}

func TestParseSpecs(t *testing.T) {
	got, err := ParseSpecs([]string{"2*popen", "socket=127.0.0.1:1"})
	if err != nil || len(got) != 3 || got[2].Kind != KindSocket {
		t.Fatalf("ParseSpecs = %+v, %v", got, err)
	}
	if _, err := ParseSpecs([]string{"popen", "bad", "worse"}); err == nil ||
		!strings.Contains(err.Error(), `"bad"`) || !strings.Contains(err.Error(), `"worse"`) {
		t.Errorf("ParseSpecs error %v should name both bad specs", err)
	}
}

func TestAssignIDs(t *testing.T) {
	got := assignIDs([]Spec{{}, {ID: "gw1"}, {}, {ID: "x"}, {}})
	var ids []string
	for _, sp := range got {
		ids = append(ids, sp.ID)
	}
	if want := []string{"gw0", "gw1", "gw2", "x", "gw3"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ids = %v, want %v", ids, want)
	}
}
