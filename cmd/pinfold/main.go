// Command pinfold is the self-hosted home for Amazon Pinpoint's audience data: one binary that
// serves the Pinpoint REST API (serve), manages its data (migrate, version) and drives a running
// server (import, jobs, job, keys).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "pinfold:", err)
		}
		os.Exit(1)
	}
}

const usage = `pinfold is a self-hosted server for Amazon Pinpoint's audience data.

Usage:
  pinfold serve [flags]            run the API and the import engine
  pinfold migrate [flags]          apply database migrations and exit
  pinfold import [flags] FILE...   upload files (or take an s3:// URL), import them, follow the job
  pinfold jobs [flags]             list recent jobs
  pinfold job [flags] JOB_ID       show a job, its definition and all its failures
  pinfold keys create|list|revoke  manage access keys limited to apps or to reads
  pinfold version                  print the version

Run "pinfold COMMAND -h" for a command's flags.
`

// Run runs the subcommand named by args[0].
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args[1:], getenv, stderr)
	case "import":
		return runImport(ctx, args[1:], getenv, stdout, stderr)
	case "jobs":
		return runJobs(ctx, args[1:], getenv, stdout, stderr)
	case "job":
		return runJob(ctx, args[1:], getenv, stdout, stderr)
	case "keys":
		return runKeys(ctx, args[1:], getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "pinfold", Version)
		return nil
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
