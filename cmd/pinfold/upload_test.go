package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFileFormat(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{"a.csv": "CSV", "A.CSV.GZ": "CSV", "b.json": "JSON", "b.jsonl": "JSON",
		"dir/b.ndjson.gz": "JSON", "c.txt": "", "csv": "", "d.gz": "JSON", "s3://bucket/prefix/": ""} {
		if got := fileFormat(name); got != want {
			t.Errorf("fileFormat(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestCollectFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"top.csv", "data/a.csv", "data/sub/b.json", "data/sub/notes.txt"} {
		writeFile(t, dir, name, []byte("x"))
	}
	if err := os.Symlink(filepath.Join(dir, "top.csv"), filepath.Join(dir, "data", "link.csv")); err != nil {
		t.Fatal(err)
	}
	files, err := collectFiles([]string{filepath.Join(dir, "top.csv"), filepath.Join(dir, "data")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, f.Key+":"+f.Format)
	}
	if want := "top.csv:CSV a.csv:CSV link.csv:CSV sub/b.json:JSON sub/notes.txt:"; strings.Join(got, " ") != want {
		t.Errorf("keys %q, want %q", strings.Join(got, " "), want)
	}
	if !files[0].Explicit || files[1].Explicit {
		t.Errorf("Explicit: %+v", files[:2])
	}
	_, err = collectFiles([]string{filepath.Join(dir, "top.csv"), filepath.Join(dir, "data"), filepath.Join(dir, "data", "a.csv")})
	if err == nil || !strings.Contains(err.Error(), `would both be uploaded as "a.csv"`) {
		t.Errorf("a key twice: %v", err)
	}
}

func TestChooseFormat(t *testing.T) {
	t.Parallel()
	csv := localFile{Path: "a.csv", Key: "a.csv", Format: "CSV"}
	json := localFile{Path: "b.json", Key: "b.json", Format: "JSON"}
	txt := localFile{Path: "c.txt", Key: "c.txt"}
	format, keep, skipped, err := chooseFormat("", []localFile{csv, txt})
	if err != nil || format != "CSV" || len(keep) != 1 || len(skipped) != 1 {
		t.Errorf("CSV and a text file: %q %v %v %v", format, keep, skipped, err)
	}
	if _, _, _, err := chooseFormat("", []localFile{csv, json}); err == nil || !strings.Contains(err.Error(), "found 1 CSV and 1 JSON files") {
		t.Errorf("mixed: %v", err)
	}
	format, keep, skipped, err = chooseFormat("JSON", []localFile{csv, json})
	if err != nil || format != "JSON" || keep[0] != json || skipped[0] != csv {
		t.Errorf("mixed with --format JSON: %q %v %v %v", format, keep, skipped, err)
	}
	if _, _, _, err := chooseFormat("", []localFile{txt}); err == nil || !strings.Contains(err.Error(), "no files to import") {
		t.Errorf("no import file: %v", err)
	}
}

func TestUploadURL(t *testing.T) {
	t.Parallel()
	prefix := uploadPrefix(time.Date(2026, 11, 5, 14, 22, 33, 0, time.UTC))
	if !strings.HasPrefix(prefix, "20261105T142233Z-") || len(prefix) != len("20261105T142233Z-")+9 || !strings.HasSuffix(prefix, "/") {
		t.Errorf("prefix %q", prefix)
	}
	one := []localFile{{Key: "sub/a.csv"}}
	if got := uploadURL("b", "p/", one); got != "s3://b/p/sub/a.csv" {
		t.Errorf("one file: %q", got)
	}
	if got := uploadURL("b", "p/", append(one, localFile{Key: "b.csv"})); got != "s3://b/p/" {
		t.Errorf("two files: %q", got)
	}
}
