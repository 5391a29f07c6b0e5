package sqlite_test

import (
	"testing"

	"github.com/pinfold/pinfold/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return mustOpenDB(t) })
}
