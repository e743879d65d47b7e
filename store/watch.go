package store

import (
	"context"
	"fmt"
	"time"
)

// Watch calls changed each time another connection (any kgrun process, this one
// included) has committed to the store since the last look, checking every interval
// until ctx ends. It asks SQLite's data_version on a connection of its own, which costs
// one query and reads no table, so a UI can follow a busy store cheaply.
func (s *SQLite) Watch(ctx context.Context, interval time.Duration, changed func()) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store %s: %w", s.path, err)
	}
	defer conn.Close()
	version := func() (int64, error) {
		var v int64
		err := conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v)
		return v, err
	}
	last, err := version()
	if err != nil {
		return fmt.Errorf("store %s: %w", s.path, err)
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		v, err := version()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("store %s: %w", s.path, err)
		}
		if v != last {
			last = v
			changed()
		}
	}
}
