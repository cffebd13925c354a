package queue

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrClosed is returned by every method called after Close or
	// Shutdown.
	ErrClosed = errors.New("queue closed")
	// ErrDrained is returned by Lease when every unit of the run has a
	// result: the job is done.
	ErrDrained = errors.New("every unit has a result")
	// ErrNoPlan means that no job has registered a plan under the run ID
	// (or its keys expired).
	ErrNoPlan = errors.New("no plan registered for the run")
	// ErrNotRegistered is returned by Lease before this client's Register
	// succeeded: a job takes units only after checking its fingerprint.
	ErrNotRegistered = errors.New("lease before Register")
	// ErrUnknownUnit is returned by Complete for an ID not in the plan.
	ErrUnknownUnit = errors.New("unit not in the plan")
	// ErrNotLeased is returned by Requeue for a unit this client does not
	// hold a lease on (never leased, completed, or the lease was lost).
	ErrNotLeased = errors.New("unit not leased by this job")
	// ErrDuplicate is matched (errors.Is) by a *DuplicateError.
	ErrDuplicate = errors.New("result already recorded")
)

// FingerprintError is returned by Register when the run's plan was
// registered with another fingerprint: the job runs other code, or another
// plan, than the job that registered. Nothing was written.
type FingerprintError struct {
	Run          string
	Plan         string // the registered fingerprint
	RegisteredBy string // the job that registered it
	Got          string // this job's fingerprint
}

func (e *FingerprintError) Error() string {
	return fmt.Sprintf("queue %s: register: fingerprint %q differs from the plan's %q (registered by job %q): this job runs other code or another plan; use another run ID or the same commit",
		e.Run, e.Got, e.Plan, e.RegisteredBy)
}

// DuplicateError is returned by Complete when the unit already has a
// result: the new one is dropped. It happens when a job lost a lease
// (stalled or cut off past the lease timeout), the unit was run again
// elsewhere, and the first result arrived before this one.
type DuplicateError struct {
	Run  string
	Unit string
	By   string // who recorded the result that stays (JOB/WORKER)
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("queue %s: complete %q: result already recorded by %s; this one is dropped", e.Run, e.Unit, e.By)
}

// Is makes errors.Is(err, ErrDuplicate) true.
func (e *DuplicateError) Is(target error) bool { return target == ErrDuplicate }

// IncompleteError is returned by Wait when the deadline passed before
// every unit had a result.
type IncompleteError struct {
	Run     string
	Total   int
	Missing []Missing // in plan order
}

// Missing is a unit without a result.
type Missing struct {
	ID string
	// Holder is JOB/WORKER of the unit's current lease, or "" when the
	// unit is waiting in the queue (no live job took it).
	Holder string
}

// maxNamed bounds how many missing units the message names.
const maxNamed = 20

func (e *IncompleteError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "queue %s: wait: deadline passed with %d of %d units without a result:", e.Run, len(e.Missing), e.Total)
	for i, m := range e.Missing {
		if i == maxNamed {
			fmt.Fprintf(&b, " and %d more", len(e.Missing)-maxNamed)
			break
		}
		if i > 0 {
			b.WriteByte(',')
		}
		if m.Holder == "" {
			fmt.Fprintf(&b, " %q (queued)", m.ID)
		} else {
			fmt.Fprintf(&b, " %q (leased by %s)", m.ID, m.Holder)
		}
	}
	return b.String()
}

// redactedError carries a lower layer's error with a message from which
// the password has been removed.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
