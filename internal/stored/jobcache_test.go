package stored_test

import (
	"fmt"
	"testing"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/internal/stored"
)

// TestJobCacheBound checks that the cache holds at most MaxCachedJobs jobs, keeps the one just
// put, and forgets an app's jobs and only those.
func TestJobCacheBound(t *testing.T) {
	var c stored.JobCache
	for i := range stored.MaxCachedJobs + 10 {
		c.Put(&pinfold.ImportJob{ID: fmt.Sprint(i), AppID: fmt.Sprint("app", i%2)})
	}
	if n := c.Len(); n != stored.MaxCachedJobs {
		t.Fatalf("%d jobs kept, want %d", n, stored.MaxCachedJobs)
	}
	last := fmt.Sprint(stored.MaxCachedJobs + 9)
	if k, ok := c.Get(last); !ok || k.AppID != "app1" {
		t.Fatalf("the job put last: %+v %v", k, ok)
	}
	c.ForgetApp("app1")
	if _, ok := c.Get(last); ok {
		t.Fatal("a job of a forgotten app is kept")
	}
	if n := c.Len(); n == 0 || n > stored.MaxCachedJobs/2+10 {
		t.Fatalf("%d jobs kept after forgetting one app of two", n)
	}
	c.Put(&pinfold.ImportJob{ID: "x", AppID: "app0"})
	if _, ok := c.Get("x"); !ok {
		t.Fatal("the job put last is not kept")
	}
	c.Forget("x")
	if _, ok := c.Get("x"); ok {
		t.Fatal("a forgotten job is kept")
	}
}
