package main

import (
	"database/sql"
	"runtime"

	"github.com/pinfold/pinfold/postgres"
	"github.com/pinfold/pinfold/sqlite"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// registerMetrics adds to registry what /metrics shows besides the API's and the importer's
// own: the Go runtime's and the process's figures (go_*, process_*), the build, and the
// store's.
func registerMetrics(registry *prometheus.Registry, db store) {
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pinfold_build_info",
			Help:        "Always 1; its labels name the running build, as `pinfold version` does, and the Go it was built with.",
			ConstLabels: prometheus.Labels{"version": Version, "goversion": runtime.Version()}}, func() float64 { return 1 }))
	switch db := db.(type) {
	case *sqlite.DB:
		registry.MustRegister(sqliteCollector{db})
	case *postgres.DB:
		registry.MustRegister(postgresCollector{db})
	}
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// gauge and counter send a sample of d, read at this scrape, with the values of d's labels.
func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func counter(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
}

var (
	sqliteDatabaseBytes = desc("pinfold_sqlite_database_bytes", "Size of the SQLite database file.")
	sqliteWALBytes      = desc("pinfold_sqlite_wal_bytes", "Size of the SQLite WAL file: it grows to hundreds of MB during a large import, and is emptied two seconds after the writes stop.")
	sqliteCheckpoints   = desc("pinfold_sqlite_checkpoints_total", "WAL checkpoints run beside the writer, which copy committed pages into the database file.")
	sqliteTruncations   = desc("pinfold_sqlite_wal_truncations_total", "Times the WAL file was emptied once writes had stopped.")
	sqliteGroupCommits  = desc("pinfold_sqlite_group_commits_total", "Transactions that committed several import pieces together.")
	sqliteGroupedPieces = desc("pinfold_sqlite_grouped_pieces_total", "Import pieces committed in those transactions.")
	sqliteConns         = desc("pinfold_sqlite_connections", "Connections of the SQLite pools, by pool (write: the one writer; read) and state (in_use, idle).", "pool", "state")
	sqliteWaits         = desc("pinfold_sqlite_connection_waits_total", "Times a statement or transaction waited for a connection of the pool, by pool: on the write pool, writes that queued behind others, imports among them.", "pool")
	sqliteWaitSeconds   = desc("pinfold_sqlite_connection_wait_seconds_total", "Time spent waiting for a connection of the pool, by pool.", "pool")
	sqliteReserve       = desc("pinfold_sqlite_disk_reserve_released", "1 when the disk filled up and the reserve file kept beside the database was deleted to record failures, until a write at least a minute later finds room to make it again.")
)

// sqliteCollector collects the SQLite store's Stats at each scrape.
type sqliteCollector struct{ db *sqlite.DB }

func (c sqliteCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{sqliteDatabaseBytes, sqliteWALBytes, sqliteCheckpoints, sqliteTruncations,
		sqliteGroupCommits, sqliteGroupedPieces, sqliteConns, sqliteWaits, sqliteWaitSeconds, sqliteReserve} {
		ch <- d
	}
}

func (c sqliteCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.db.Stats()
	gauge(ch, sqliteDatabaseBytes, float64(s.DatabaseBytes))
	gauge(ch, sqliteWALBytes, float64(s.WALBytes))
	counter(ch, sqliteCheckpoints, float64(s.Checkpoints))
	counter(ch, sqliteTruncations, float64(s.WALTruncations))
	counter(ch, sqliteGroupCommits, float64(s.GroupCommits))
	counter(ch, sqliteGroupedPieces, float64(s.GroupedPieces))
	for _, p := range []struct {
		name string
		st   sql.DBStats
	}{{"write", s.Write}, {"read", s.Read}} {
		gauge(ch, sqliteConns, float64(p.st.InUse), p.name, "in_use")
		gauge(ch, sqliteConns, float64(p.st.Idle), p.name, "idle")
		counter(ch, sqliteWaits, float64(p.st.WaitCount), p.name)
		counter(ch, sqliteWaitSeconds, p.st.WaitDuration.Seconds(), p.name)
	}
	reserve := 0.0
	if s.ReserveReleased {
		reserve = 1
	}
	gauge(ch, sqliteReserve, reserve)
}

var (
	postgresConns            = desc("pinfold_postgres_connections", "Connections of the node's PostgreSQL pool, by state (acquired, idle, constructing).", "state")
	postgresMaxConns         = desc("pinfold_postgres_max_connections", "Size of the node's PostgreSQL pool (pool_max_conns in the database URL).")
	postgresAcquires         = desc("pinfold_postgres_acquires_total", "Connections taken from the pool.")
	postgresEmptyAcquires    = desc("pinfold_postgres_empty_acquires_total", "Acquires that found no idle connection and waited for one: a pool too small for the node's import workers and requests.")
	postgresCanceledAcquires = desc("pinfold_postgres_canceled_acquires_total", "Waits for a connection given up because their request or work was cancelled.")
	postgresAcquireSeconds   = desc("pinfold_postgres_acquire_seconds_total", "Time all acquires took, waits included.")
	postgresAppLocks         = desc("pinfold_postgres_app_locks_total", "App locks this node's writers of endpoints and segments took, by writer (import_piece; other: the API's writes, an import job's segment). An app's writers take turns across all nodes.", "writer")
	postgresAppLockSeconds   = desc("pinfold_postgres_app_lock_wait_seconds_total", "Time those writers waited for the app's lock, behind this node's earlier writers of the app and then other nodes', by writer.", "writer")
)

// postgresCollector collects the PostgreSQL store's Stats at each scrape.
type postgresCollector struct{ db *postgres.DB }

func (c postgresCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{postgresConns, postgresMaxConns, postgresAcquires, postgresEmptyAcquires,
		postgresCanceledAcquires, postgresAcquireSeconds, postgresAppLocks, postgresAppLockSeconds} {
		ch <- d
	}
}

func (c postgresCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.db.Stats()
	gauge(ch, postgresConns, float64(s.AcquiredConns), "acquired")
	gauge(ch, postgresConns, float64(s.IdleConns), "idle")
	gauge(ch, postgresConns, float64(s.ConstructingConns), "constructing")
	gauge(ch, postgresMaxConns, float64(s.MaxConns))
	counter(ch, postgresAcquires, float64(s.Acquires))
	counter(ch, postgresEmptyAcquires, float64(s.EmptyAcquires))
	counter(ch, postgresCanceledAcquires, float64(s.CanceledAcquires))
	counter(ch, postgresAcquireSeconds, s.AcquireWait.Seconds())
	counter(ch, postgresAppLocks, float64(s.PieceAppLocks), "import_piece")
	counter(ch, postgresAppLockSeconds, s.PieceAppLockWait.Seconds(), "import_piece")
	counter(ch, postgresAppLocks, float64(s.OtherAppLocks), "other")
	counter(ch, postgresAppLockSeconds, s.OtherAppLockWait.Seconds(), "other")
}
