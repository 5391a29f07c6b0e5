package main

import (
	"flag"
	"io"
	"slices"
	"testing"
)

func TestEndpointURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		candidates []string
		want       string
	}{
		{[]string{"", "", "", defaultEndpointURL}, "http://127.0.0.1:8080"},
		{[]string{"", "http://pinpoint:1/", "http://any:2", defaultEndpointURL}, "http://pinpoint:1"},
		{[]string{"https://flag:3", "http://pinpoint:1", "http://any:2", defaultEndpointURL}, "https://flag:3"},
	} {
		if got, err := endpointURL("--endpoint-url", tc.candidates...); err != nil || got != tc.want {
			t.Errorf("endpointURL(%q) = %q, %v; want %q", tc.candidates, got, err, tc.want)
		}
	}
	if _, err := endpointURL("--endpoint-url", "127.0.0.1:8080"); err == nil {
		t.Error("a URL without a scheme was accepted")
	}
}

func TestUseDataCredentials(t *testing.T) {
	t.Parallel()
	for env, want := range map[string]bool{"": true, "AWS_PROFILE": false, "AWS_ACCESS_KEY_ID": false, "AWS_SHARED_CREDENTIALS_FILE": true} {
		getenv := func(k string) string {
			if k == env {
				return "set"
			}
			return ""
		}
		if got := useDataCredentials(getenv); got != want {
			t.Errorf("with %s set: %v, want %v", env, got, want)
		}
	}
}

func TestParseArgs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args, positional []string
		app              string
	}{
		{[]string{"--app", "A", "x.csv"}, []string{"x.csv"}, "A"},
		{[]string{"x.csv", "--app", "A", "y.csv"}, []string{"x.csv", "y.csv"}, "A"},
		{[]string{"x.csv", "--", "--app"}, []string{"x.csv", "--app"}, ""},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		app := fs.String("app", "", "")
		got, err := parseArgs(fs, tc.args)
		if err != nil || !slices.Equal(got, tc.positional) || *app != tc.app {
			t.Errorf("parseArgs(%q) = %q, app %q, %v; want %q, app %q", tc.args, got, *app, err, tc.positional, tc.app)
		}
	}
}
