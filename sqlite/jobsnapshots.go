package sqlite

import (
	"slices"
	"sync"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/internal/stored"
)

// jobSnapshots keeps the import jobs FindImportJob read since the last write to the
// database ended. SQLite has one writer, this process's (the lock file keeps others off),
// and every write that may have changed rows counts itself in DB.writes when it ends: while
// the count has not moved, no job can have changed. So a client polling a job that no one
// writes, or polling between two commits of a running import, reads no SQL
// (docs/performance.md, GetImportJob).
//
// A read is kept under the count taken before it began. A write that ends after that
// moves the count, which drops the read whether or not it saw the write; a write that
// ended before it is in the read. At most stored.MaxCachedJobs are kept.
type jobSnapshots struct {
	mu     sync.Mutex
	writes uint64                        // the count the jobs were read under
	jobs   map[string]*pinfold.ImportJob // by ID; never changed once kept
}

// get returns a copy of job id as read under writes, if it is kept.
func (c *jobSnapshots) get(id string, writes uint64) (*pinfold.ImportJob, bool) {
	c.mu.Lock()
	j, ok := c.jobs[id]
	ok = ok && c.writes == writes
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	return copyJob(j), true
}

// put keeps a copy of j, read under writes. Jobs read under an earlier count are dropped;
// j itself is not kept if a later count has been seen.
func (c *jobSnapshots) put(j *pinfold.ImportJob, writes uint64) {
	cp := copyJob(j)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.jobs == nil || writes > c.writes:
		c.jobs, c.writes = map[string]*pinfold.ImportJob{}, writes
	case writes < c.writes:
		return
	case len(c.jobs) >= stored.MaxCachedJobs:
		for id := range c.jobs {
			delete(c.jobs, id)
			break
		}
	}
	c.jobs[j.ID] = cp
}

// copyJob returns a copy of j that shares nothing with it that a caller could change.
func copyJob(j *pinfold.ImportJob) *pinfold.ImportJob {
	cp := *j
	cp.Failures = slices.Clone(j.Failures)
	return &cp
}
