package manifest_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/lsqupload/lsqupload/manifest"
)

// FuzzReader feeds arbitrary bytes to the reader as a manifest. Whatever
// the input, it must not panic, must refuse a bad header with ErrHeader,
// and must return rows that are aligned with the header, start after it,
// come in file order, and number exactly what Rest counts.
func FuzzReader(f *testing.F) {
	seeds := []string{
		shortHeader + validRow,
		fullHeader + "kyc.pdf,activity,12005,mx_A,mx_B,7,0,0\r\n,,,,,,,\r\n",
		"\xEF\xBB\xBF" + shortHeader + "\"a\nb\",x,y,z\nkyc.pdf,\"open\n",
		shortHeader + "kyc.pdf,say \"hi\",x,y\nkyc.pdf,\"a\"b,x,y\n",
		shortHeader + "a,b,c,d,e,f\nshort\n\n",
		"file_path,id,schema_name,entity_schema_name,status,line\n" + validRow,
		"file_path;id;schema_name;entity_schema_name\n",
		"\xFF\xFEf\x00",
		"file_path,path,id\n",
		"",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	dir := fixture(f)

	f.Fuzz(func(t *testing.T, data []byte) {
		opts := manifest.Options{Dir: dir, Drop: resultColumns}
		r, err := manifest.NewReader(bytes.NewReader(data), opts)
		if err != nil {
			if !errors.Is(err, manifest.ErrHeader) {
				t.Fatalf("header error %v does not wrap ErrHeader", err)
			}
			return
		}
		own := len(r.Header().Own)

		rows, last := 0, 1
		for ; ; rows++ {
			if rows > len(data) {
				t.Fatalf("more rows (%d) than input bytes", rows)
			}
			row, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			if row.Line < 2 || row.Line < last {
				t.Fatalf("row %d at line %d, after line %d", rows+1, row.Line, last)
			}
			last = row.Line
			if len(row.Record) != own {
				t.Fatalf("row at line %d has %d cells, header has %d", row.Line,
					len(row.Record), own)
			}
			if row.Err != nil && row.Err.Line != row.Line {
				t.Fatalf("row at line %d rejected for line %d", row.Line, row.Err.Line)
			}
		}

		again, err := manifest.NewReader(bytes.NewReader(data), opts)
		if err != nil {
			t.Fatalf("second NewReader: %v", err)
		}
		if n, err := again.Rest(); err != nil || n != rows {
			t.Fatalf("Rest() = %d, %v; Next returned %d rows", n, err, rows)
		}
	})
}
