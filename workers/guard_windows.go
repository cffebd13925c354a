package workers

// MainIfGuard does nothing on Windows, where a test binary cannot single
// out its parent with a signal: Request.Guard has no effect there.
func MainIfGuard() {}
