package uploader

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/lsqupload/lsqupload/uploader/lsqtest"
)

// benchUpload measures one upload of a file of size bytes to a sandbox on
// loopback. B/op staying flat as size grows shows the file is streamed,
// not held in memory.
func benchUpload(b *testing.B, size int) {
	srv, err := lsqtest.Start("", lsqtest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()

	p := filepath.Join(b.TempDir(), "scan.pdf")
	if err := os.WriteFile(p, make([]byte, size), 0o600); err != nil {
		b.Fatal(err)
	}
	c, err := New(Options{Endpoint: srv.URL, Credentials: sandboxCreds()})
	if err != nil {
		b.Fatal(err)
	}
	req := Request{Path: p, Size: int64(size), ID: testLead, SchemaName: "mx_CustomObject_2",
		EntitySchemaName: "mx_KYC", FileType: 7}

	b.ReportAllocs()
	b.SetBytes(int64(size))
	b.ResetTimer()
	for b.Loop() {
		if res := c.Upload(context.Background(), req); res.Err != nil {
			b.Fatal(res.Err)
		}
	}
}

func BenchmarkUpload64KiB(b *testing.B) { benchUpload(b, 64<<10) }

func BenchmarkUpload8MiB(b *testing.B) { benchUpload(b, 8<<20) }

func BenchmarkClassify(b *testing.B) {
	body := []byte(`{"Status":"Success","uploadedFile":"a1b2c3d4e5f6_aadhaar-front.jpg",` +
		`"relativeFilePath":"https://f.example/x","s3FilePath":"https://s3.example/x",` +
		`"description":null}`)
	b.ReportAllocs()
	for b.Loop() {
		Classify(200, nil, body)
	}
}
