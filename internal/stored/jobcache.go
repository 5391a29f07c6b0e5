package stored

import (
	"sync"
	"time"

	"github.com/pinfold/pinfold"
)

// MaxCachedJobs bounds a JobCache: a few thousand jobs polled at once is more than a node
// serves, and an entry is a few hundred bytes.
const MaxCachedJobs = 4096

// JobConstants are the parts of an import job that never change after it is created.
type JobConstants struct {
	AppID      string
	Definition pinfold.ImportDefinition
	CreatedAt  time.Time
}

// JobCache keeps the constant parts of the import jobs read most recently, so that
// FindImportJob, which clients poll, reads and decodes only the columns that change: the
// status, the counters and the failures are read from the database on every call, which is
// what keeps them right when another node updates the job. Job IDs are never reused, so an
// entry cannot describe another job; a job that is gone is simply not found by the read of
// its changing columns, which forgets it. At most MaxCachedJobs are kept; when it is full, an
// arbitrary entry makes room. The zero JobCache is ready to use.
type JobCache struct {
	mu   sync.Mutex
	jobs map[string]JobConstants
}

// Get returns the constants of job id, if they are kept.
func (c *JobCache) Get(id string) (JobConstants, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.jobs[id]
	return k, ok
}

// Put keeps the constants of j.
func (c *JobCache) Put(j *pinfold.ImportJob) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.jobs == nil {
		c.jobs = map[string]JobConstants{}
	}
	if _, ok := c.jobs[j.ID]; !ok && len(c.jobs) >= MaxCachedJobs {
		for id := range c.jobs {
			delete(c.jobs, id)
			break
		}
	}
	c.jobs[j.ID] = JobConstants{AppID: j.AppID, Definition: j.Definition, CreatedAt: j.CreatedAt}
}

// Forget drops job id.
func (c *JobCache) Forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.jobs, id)
}

// ForgetApp drops every job of app appID.
func (c *JobCache) ForgetApp(appID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, k := range c.jobs {
		if k.AppID == appID {
			delete(c.jobs, id)
		}
	}
}

// Len returns the number of jobs kept.
func (c *JobCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.jobs)
}
