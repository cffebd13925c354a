package isolate

import "strings"

// tempDirVars are what os.TempDir (GetTempPath2) reads.
var tempDirVars = []string{"TMP", "TEMP"}

func envNameEqual(a, b string) bool { return strings.EqualFold(a, b) }
