package s3

import (
	"crypto/rand"
	"os"
	"path"

	"github.com/spf13/afero"
)

// atomicFs is an afero.Fs whose truncating writes replace files atomically: the new content
// is written to a file under tmpDir and renamed over the old one when it is closed. The s3afero
// backend rewrites objects in place, so without this a reader that opened an object (after its
// ETag was checked) could see it truncated and half rewritten by a concurrent PUT; with it, the
// reader keeps the old file. A crash during a write leaves the old object whole.
type atomicFs struct {
	afero.Fs
	tmpDir string // inside the same file system, so that rename is atomic
}

// Create implements afero.Fs.
func (fs *atomicFs) Create(name string) (afero.File, error) {
	return fs.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

// OpenFile implements afero.Fs.
func (fs *atomicFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if flag&os.O_CREATE == 0 || flag&os.O_TRUNC == 0 {
		return fs.Fs.OpenFile(name, flag, perm)
	}
	if err := fs.Fs.MkdirAll(fs.tmpDir, 0o700); err != nil {
		return nil, err
	}
	tmp := path.Join(fs.tmpDir, "write-"+rand.Text())
	f, err := fs.Fs.OpenFile(tmp, flag|os.O_EXCL, perm)
	if err != nil {
		return nil, err
	}
	return &atomicFile{File: f, fs: fs.Fs, tmp: tmp, name: name}, nil
}

// atomicFile is a file being written under a temporary name until it is closed.
type atomicFile struct {
	afero.File
	fs        afero.Fs
	tmp, name string
}

// Name implements afero.File: the name the file will have once closed.
func (f *atomicFile) Name() string { return f.name }

// Close closes the temporary file and renames it over the target.
func (f *atomicFile) Close() error {
	err := f.File.Close()
	if err == nil {
		err = f.fs.Rename(f.tmp, f.name)
	}
	if err != nil {
		f.fs.Remove(f.tmp)
	}
	return err
}
