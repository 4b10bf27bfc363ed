package manifest_test

import (
	"errors"
	"io"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/lsqupload/lsqupload/manifest"
)

// generatedHeader heads a generated manifest; its rows carry a note.
const generatedHeader = "file_path,id,schema_name,entity_schema_name,note\n"

// generated is an io.Reader that produces a manifest of n rows on the fly,
// each naming the same file, so a huge manifest costs no memory in the
// test. It counts the bytes it has handed out.
type generated struct {
	n, next  int
	path     string
	pending  []byte
	produced int64
}

func (g *generated) Read(p []byte) (int, error) {
	if len(g.pending) == 0 {
		switch {
		case g.next == 0:
			g.pending = append(g.pending[:0], generatedHeader...)
		case g.next <= g.n:
			g.pending = append(g.pending[:0], g.path...)
			g.pending = append(g.pending, ',')
			g.pending = append(g.pending, leadID...)
			g.pending = append(g.pending, ","+schema+","+entitySchema+",row "...)
			g.pending = strconv.AppendInt(g.pending, int64(g.next), 10)
			g.pending = append(g.pending, '\n')
		default:
			return 0, io.EOF
		}
		g.next++
	}
	n := copy(p, g.pending)
	g.pending = g.pending[n:]
	g.produced += int64(n)
	return n, nil
}

// TestReaderStreams reads a large generated manifest and checks that the
// reader holds only a bounded window of it at any time. Every row costs a
// stat and an open of its file (about 20 µs), so the test reads 50,000
// rows; BenchmarkReader measures the rate.
func TestReaderStreams(t *testing.T) {
	n := 50_000
	if testing.Short() || raceEnabled {
		n = 10_000
	}
	dir := fixture(t)
	gen := &generated{n: n, path: filepath.Join(dir, "kyc.pdf")}

	r, err := manifest.NewReader(gen, manifest.Options{Dir: dir})
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	count := 0
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Next after %d rows: %v", count, err)
		}
		count++
		if row.Err != nil || row.Line != count+1 {
			t.Fatalf("row %d: line %d, error %v; want line %d, no error",
				count, row.Line, row.Err, count+1)
		}
		// The reader buffers 64 KiB; twice that is more than a stream needs.
		if count == 1 && gen.produced > 128<<10 {
			t.Errorf("read %d bytes to return the first row, want at most %d",
				gen.produced, 128<<10)
		}
	}
	if count != n {
		t.Errorf("read %d rows, want %d", count, n)
	}
}

func BenchmarkReader(b *testing.B) {
	dir := fixture(b)
	path := filepath.Join(dir, "kyc.pdf")
	b.ReportAllocs()

	rows := 0
	for b.Loop() {
		gen := &generated{n: 1000, path: path}
		r, err := manifest.NewReader(gen, manifest.Options{Dir: dir})
		if err != nil {
			b.Fatal(err)
		}
		for {
			row, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil || row.Err != nil {
				b.Fatalf("row: %v %v", err, row.Err)
			}
			rows++
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
