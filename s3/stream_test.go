package s3_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/pinfold/pinfold/s3"
)

func TestPutStream(t *testing.T) {
	t.Parallel()
	srv := openServer(t, t.TempDir(), nil)
	c := newClient(t, srv.URL())
	ctx := t.Context()
	if err := c.EnsureBucket(ctx, "uploads"); err != nil {
		t.Fatalf("EnsureBucket (new): %v", err)
	}
	if err := c.EnsureBucket(ctx, "uploads"); err != nil {
		t.Fatalf("EnsureBucket (existing): %v", err)
	}
	for _, size := range []int{0, 1000, s3.StreamPartSize, s3.StreamPartSize*2 + 17} {
		data := bytes.Repeat([]byte("0123456789abcdef\n"), size/17+1)[:size]
		// io.MultiReader hides the bytes.Reader: PutStream gets a plain, unseekable stream.
		n, err := c.PutStream(ctx, "uploads", "f.csv", io.MultiReader(bytes.NewReader(data)))
		if err != nil || n != int64(size) {
			t.Fatalf("PutStream of %d bytes = %d, %v", size, n, err)
		}
		objs, err := c.List(ctx, "uploads", "f.csv")
		if err != nil || len(objs) != 1 {
			t.Fatalf("List: %v %v", objs, err)
		}
		got := readAll(t, c, "uploads", "f.csv", objs[0].ETag, 0, -1)
		if got != string(data) {
			t.Fatalf("object of %d bytes reads back as %d bytes", size, len(got))
		}
	}
}
