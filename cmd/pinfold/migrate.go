package main

import (
	"context"
	"io"
)

// runMigrate applies the database migrations and exits.
func runMigrate(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	var cfg Config
	fs, errs := cfg.flagSet("migrate", getenv, stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := firstError(*errs, cfg.Validate()); err != nil {
		return err
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	return db.Close()
}

func firstError(errs []error, more ...error) error {
	for _, err := range append(errs, more...) {
		if err != nil {
			return err
		}
	}
	return nil
}
