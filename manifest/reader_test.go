package manifest_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/lsqupload/lsqupload/manifest"
)

// TestReaderRows checks which rows a manifest yields, at which physical
// lines, and with which cells, for the shapes spreadsheets and hand edits
// produce.
func TestReaderRows(t *testing.T) {
	const head = "file_path,id,schema_name,entity_schema_name,note\n"
	ok := func(path, note string) string {
		return path + "," + leadID + "," + schema + "," + entitySchema + "," + note
	}
	okRec := func(path, note string) []string {
		return rec(path, leadID, schema, entitySchema, note)
	}

	tests := []struct {
		name  string
		text  string
		want  []outcome
		blank int
	}{
		{
			name: "lf",
			text: head + ok("kyc.pdf", "a") + "\n" + ok("photo.png", "b") + "\n",
			want: []outcome{
				{Line: 2, Record: okRec("kyc.pdf", "a")},
				{Line: 3, Record: okRec("photo.png", "b")},
			},
		},
		{
			name: "crlf without a final line end",
			text: strings.ReplaceAll(head, "\n", "\r\n") + ok("kyc.pdf", "a") + "\r\n" +
				ok("photo.png", "b"),
			want: []outcome{
				{Line: 2, Record: okRec("kyc.pdf", "a")},
				{Line: 3, Record: okRec("photo.png", "b")},
			},
		},
		{
			name: "quoted line breaks shift later lines",
			text: head +
				ok("kyc.pdf", "\"two\r\nlines\"") + "\r\n" +
				ok("photo.png", "\"three\nshort\nlines\"") + "\n" +
				ok("scan.JPG", "c") + "\n",
			want: []outcome{
				{Line: 2, Record: okRec("kyc.pdf", "two\nlines")},
				{Line: 4, Record: okRec("photo.png", "three\nshort\nlines")},
				{Line: 7, Record: okRec("scan.JPG", "c")},
			},
		},
		{
			name: "quoted header cell with a line break",
			text: "file_path,id,schema_name,entity_schema_name,\"note\non two lines\"\n" +
				ok("kyc.pdf", "a") + "\n",
			want: []outcome{{Line: 3, Record: okRec("kyc.pdf", "a")}},
		},
		{
			name: "blank rows skipped and counted",
			text: head + ",,,,\n" + ok("kyc.pdf", "a") + "\n\n" + " , ,\t,,\n" +
				ok("photo.png", "b") + "\n" + ",,,,\n,\n",
			want: []outcome{
				{Line: 3, Record: okRec("kyc.pdf", "a")},
				{Line: 6, Record: okRec("photo.png", "b")},
			},
			blank: 4,
		},
		{
			name: "bare quote costs its row only, which keeps its cells",
			text: head + ok("kyc.pdf", `say "hi"`) + "\n" + ok("photo.png", "b") + "\n",
			want: []outcome{
				{Line: 2, Record: okRec("kyc.pdf", `say "hi"`), Err: `line 2: ` +
					`malformed CSV at line 2, byte 75: ` +
					`bare " in non-quoted-field`},
				{Line: 3, Record: okRec("photo.png", "b")},
			},
		},
		{
			name: "text after a closing quote",
			text: head + ok("kyc.pdf", `"a"b`) + "\n" + ok("photo.png", "b") + "\n",
			want: []outcome{
				{Line: 2, Record: okRec("kyc.pdf", `a"b`), Err: `line 2: malformed CSV at ` +
					`line 2, byte 73: extraneous or missing " in quoted-field`},
				{Line: 3, Record: okRec("photo.png", "b")},
			},
		},
		{
			name: "an unterminated quote costs its row only",
			text: head + ok("kyc.pdf", "a") + "\n" + ok("photo.png", `"open`) + "\n" +
				ok("scan.JPG", "c") + "\n" + ok("kyc.pdf", "d") + "\n",
			want: []outcome{
				{Line: 2, Record: okRec("kyc.pdf", "a")},
				{Line: 3, Record: okRec("photo.png", "open"), Err: `line 3: malformed CSV ` +
					`at line 5, byte 73: extraneous or missing " in quoted-field; a quote ` +
					`opened on line 3 is never closed; lines 4 to 5 were read again as rows ` +
					`of their own`},
				{Line: 4, Record: okRec("scan.JPG", "c")},
				{Line: 5, Record: okRec("kyc.pdf", "d")},
			},
		},
		{
			name: "extra non-empty cell",
			text: head + ok("kyc.pdf", "a") + ",,surplus,\n" + ok("photo.png", "b") + "\n",
			want: []outcome{
				{Line: 2, Record: okRec("kyc.pdf", "a"), Err: `line 2: 8 fields but the ` +
					`header names 5: value "surplus" in field 7 has no column ` +
					`(an unquoted comma?)`},
				{Line: 3, Record: okRec("photo.png", "b")},
			},
		},
		{
			name: "unquoted comma in the path",
			text: head + "Ravi, Example.pdf," + leadID + "," + schema + "," + entitySchema +
				",n\n",
			want: []outcome{
				{Line: 2, Record: rec("Ravi", " Example.pdf", leadID, schema, entitySchema),
					Err: `line 2: 6 fields but the header names 5: value "n" in field 6 ` +
						`has no column (an unquoted comma?)`},
			},
		},
		{
			name: "trailing empty cells accepted",
			text: head + ok("kyc.pdf", "a") + ",, ,\t\n",
			want: []outcome{{Line: 2, Record: okRec("kyc.pdf", "a")}},
		},
		{
			name: "short rows",
			text: head + "kyc.pdf," + leadID + "\nkyc.pdf\n" + ok("photo.png", "") + "\n",
			want: []outcome{
				{Line: 2, Record: rec("kyc.pdf", leadID, "", "", ""),
					Err: "line 2, column schema_name: missing value"},
				{Line: 3, Record: rec("kyc.pdf", "", "", "", ""),
					Err: "line 3, column id: missing value"},
				{Line: 4, Record: okRec("photo.png", "")},
			},
		},
		{
			name: "header only",
			text: head,
		},
	}

	dir := fixture(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := open(t, tt.text, manifest.Options{Dir: dir})
			got := outcomes(readAll(t, r))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("rows:\n got %+v\nwant %+v", got, tt.want)
			}
			if r.Blank() != tt.blank {
				t.Errorf("Blank() = %d, want %d", r.Blank(), tt.blank)
			}
			if row, err := r.Next(); !errors.Is(err, io.EOF) {
				t.Errorf("Next after the end = %+v, %v; want io.EOF", row, err)
			}
		})
	}
}

// TestReaderDropsResultColumns feeds a results CSV back in: only the
// manifest's own columns come out, and the old outcome is forgotten.
func TestReaderDropsResultColumns(t *testing.T) {
	dir := fixture(t)
	text := "file_path,student_name,id,schema_name,entity_schema_name," +
		strings.Join(resultColumns, ",") + "\n" +
		"kyc.pdf,Asha Example," + leadID + "," + schema + "," + entitySchema +
		",2,failed,3,500,server,'=boom,,0,120,2024-05-01T10:00:00Z,\n" +
		"photo.png,Ravi Example," + leadID + "," + schema + "," + entitySchema +
		",3,rejected,0,,invalid,line 3: file not found,,,,,\n"

	r := open(t, text, manifest.Options{Dir: dir, Drop: resultColumns})
	wantOwn := rec("file_path", "student_name", "id", "schema_name", "entity_schema_name")
	if got := r.Header().Own; !reflect.DeepEqual(got, wantOwn) {
		t.Errorf("Own = %q, want %q", got, wantOwn)
	}

	got := outcomes(readAll(t, r))
	want := []outcome{
		{Line: 2, Record: rec("kyc.pdf", "Asha Example", leadID, schema, entitySchema)},
		{Line: 3, Record: rec("photo.png", "Ravi Example", leadID, schema, entitySchema)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows:\n got %+v\nwant %+v", got, want)
	}
}

// TestReaderAliasesMapFields checks that aliased columns in any order
// reach the right Fields and that values are trimmed there but kept as
// written in Record.
func TestReaderAliasesMapFields(t *testing.T) {
	dir := fixture(t)
	text := "Notes, Entity ,Storage Version,Lead ID,Path,EntitySchemaName,SchemaName," +
		"File Type,FileStorageType\n" +
		"n1, Activity ,2, 12005 , kyc.pdf ,mx_KYC,mx_CustomObject_2, 3 ,1\n"

	rows := readAll(t, open(t, text, manifest.Options{Dir: dir}))
	if len(rows) != 1 {
		t.Fatalf("got %d rows, want 1", len(rows))
	}
	row := rows[0]
	if row.Err != nil {
		t.Fatalf("row rejected: %v", row.Err)
	}

	wantFields := manifest.Fields{
		FilePath: "kyc.pdf", Entity: "Activity", ID: eventCode, SchemaName: schema,
		EntitySchemaName: entitySchema, FileType: "3", FileStorageType: "1",
		StorageVersion: "2",
	}
	if row.Fields != wantFields {
		t.Errorf("Fields = %+v, want %+v", row.Fields, wantFields)
	}
	wantRecord := rec("n1", " Activity ", "2", " 12005 ", " kyc.pdf ", "mx_KYC",
		"mx_CustomObject_2", " 3 ", "1")
	if !reflect.DeepEqual(row.Record, wantRecord) {
		t.Errorf("Record = %q, want %q", row.Record, wantRecord)
	}
	if row.Entity != manifest.EntityActivity || row.FileType != 3 ||
		row.FileStorageType != 1 || row.StorageVersion != 2 {
		t.Errorf("typed fields = %v %d %d %d, want activity 3 1 2",
			row.Entity, row.FileType, row.FileStorageType, row.StorageVersion)
	}
	if want := filepath.Join(dir, "kyc.pdf"); row.Path != want {
		t.Errorf("Path = %q, want %q", row.Path, want)
	}
}

// TestReaderPaths checks where a row's file is looked for: relative paths
// against Options.Dir, never the working directory; absolute paths as
// written.
func TestReaderPaths(t *testing.T) {
	dir := fixture(t)
	cwd := t.TempDir()
	writeFile(t, filepath.Join(cwd, "only-in-cwd.pdf"), "%PDF-1.4 cwd\n")
	t.Chdir(cwd)

	tests := []struct {
		name     string
		path     string
		wantPath string
		wantErr  string
	}{
		{name: "relative", path: "kyc.pdf", wantPath: filepath.Join(dir, "kyc.pdf")},
		{name: "subfolder", path: "sub/deep.pdf", wantPath: filepath.Join(dir, "sub", "deep.pdf")},
		{name: "dot segments", path: "./sub/../kyc.pdf", wantPath: filepath.Join(dir, "kyc.pdf")},
		{
			name:     "absolute",
			path:     filepath.Join(cwd, "only-in-cwd.pdf"),
			wantPath: filepath.Join(cwd, "only-in-cwd.pdf"),
		},
		{
			name:     "not looked up in the working directory",
			path:     "only-in-cwd.pdf",
			wantPath: filepath.Join(dir, "only-in-cwd.pdf"),
			wantErr:  "line 2, column file_path: file not found: only-in-cwd.pdf",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := shortHeader + tt.path + "," + leadID + "," + schema + "," + entitySchema
			rows := readAll(t, open(t, text, manifest.Options{Dir: dir}))
			if len(rows) != 1 {
				t.Fatalf("got %d rows, want 1", len(rows))
			}
			row := rows[0]
			if row.Path != tt.wantPath {
				t.Errorf("Path = %q, want %q", row.Path, tt.wantPath)
			}
			var gotErr string
			if row.Err != nil {
				gotErr = row.Err.Error()
			}
			if gotErr != tt.wantErr {
				t.Errorf("Err = %q, want %q", gotErr, tt.wantErr)
			}
		})
	}
}

// TestReaderPathIsAbsolute holds the Row.Path contract ("the file's
// absolute path") when Options.Dir is left empty or relative.
func TestReaderPathIsAbsolute(t *testing.T) {
	dir := fixture(t)
	t.Chdir(filepath.Dir(dir))
	base := filepath.Base(dir)
	tests := []struct{ dir, path string }{
		{dir: "", path: base + "/kyc.pdf"},
		{dir: base, path: "kyc.pdf"},
	}
	for _, tt := range tests {
		text := shortHeader + tt.path + "," + leadID + "," + schema + "," + entitySchema + "\n"
		rows := readAll(t, open(t, text, manifest.Options{Dir: tt.dir}))
		if len(rows) != 1 || rows[0].Err != nil {
			t.Fatalf("Dir %q: rows %+v, want one valid row", tt.dir, outcomes(rows))
		}
		if want := filepath.Join(dir, "kyc.pdf"); rows[0].Path != want {
			t.Errorf("Dir %q: Path = %q, want %q", tt.dir, rows[0].Path, want)
		}
	}
}

func TestOpen(t *testing.T) {
	dir := fixture(t)
	t.Chdir(t.TempDir())
	path := filepath.Join(dir, "manifest.csv")
	writeFile(t, path, shortHeader+validRow+",,,\n"+"sub/deep.pdf,"+leadID+","+schema+
		","+entitySchema+"\n")

	tests := []struct {
		name  string
		opts  manifest.Options
		paths []string
		errs  []string
	}{
		{
			name:  "paths resolve against the manifest's folder",
			paths: []string{filepath.Join(dir, "kyc.pdf"), filepath.Join(dir, "sub", "deep.pdf")},
			errs:  []string{"", ""},
		},
		{
			name: "Dir overrides the manifest's folder",
			opts: manifest.Options{Dir: filepath.Join(dir, "sub")},
			paths: []string{filepath.Join(dir, "sub", "kyc.pdf"),
				filepath.Join(dir, "sub", "sub", "deep.pdf")},
			errs: []string{"line 2, column file_path: file not found: kyc.pdf",
				"line 4, column file_path: file not found: sub/deep.pdf"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := manifest.Open(path, tt.opts)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			rows := readAll(t, r)
			if r.Blank() != 1 {
				t.Errorf("Blank() = %d, want 1", r.Blank())
			}
			if err := r.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}

			var paths, errs []string
			for _, row := range rows {
				paths = append(paths, row.Path)
				var e string
				if row.Err != nil {
					e = row.Err.Error()
				}
				errs = append(errs, e)
			}
			if !reflect.DeepEqual(paths, tt.paths) {
				t.Errorf("paths = %q, want %q", paths, tt.paths)
			}
			if !reflect.DeepEqual(errs, tt.errs) {
				t.Errorf("errors = %q, want %q", errs, tt.errs)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	writeFile(t, bad, "file_path,id\n")

	_, err := manifest.Open(filepath.Join(dir, "missing.csv"), manifest.Options{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(missing): error %v does not wrap os.ErrNotExist", err)
	}

	_, err = manifest.Open(bad, manifest.Options{})
	if !errors.Is(err, manifest.ErrHeader) {
		t.Fatalf("Open(bad header): error %v does not wrap ErrHeader", err)
	}
	want := bad + ": manifest header: missing required column(s) schema_name, " +
		"entity_schema_name (found: file_path, id)"
	if err.Error() != want {
		t.Errorf("Open(bad header):\n got %s\nwant %s", err, want)
	}
}

func TestNewReaderClose(t *testing.T) {
	r := open(t, shortHeader, manifest.Options{})
	if err := r.Close(); err != nil {
		t.Errorf("Close of a Reader over an io.Reader = %v, want nil", err)
	}
}

func TestRest(t *testing.T) {
	text := shortHeader +
		validRow + // read by Next before Rest
		",,,\n" +
		validRow +
		"\n" +
		"kyc.pdf,bad \"quote," + schema + "," + entitySchema + "\n" +
		" , , , \n" +
		"no validation happens here,,,\n"

	tests := []struct {
		name string
		next int
		want int
	}{
		{name: "from the start", next: 0, want: 4},
		{name: "after one row", next: 1, want: 3},
		{name: "after every row", next: 4, want: 0},
	}
	dir := fixture(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := open(t, text, manifest.Options{Dir: dir})
			for i := range tt.next {
				if _, err := r.Next(); err != nil {
					t.Fatalf("Next %d: %v", i+1, err)
				}
			}
			n, err := r.Rest()
			if err != nil {
				t.Fatalf("Rest: %v", err)
			}
			if n != tt.want {
				t.Errorf("Rest() = %d, want %d", n, tt.want)
			}
			if n, err := r.Rest(); n != 0 || err != nil {
				t.Errorf("second Rest() = %d, %v; want 0, nil", n, err)
			}
		})
	}
}

// errAfter is an io.Reader that fails once its text is read.
type errAfter struct {
	text string
	err  error
}

func (e *errAfter) Read(p []byte) (int, error) {
	if e.text == "" {
		return 0, e.err
	}
	n := copy(p, e.text)
	e.text = e.text[n:]
	return n, nil
}

func TestReaderReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	dir := fixture(t)

	r, err := manifest.NewReader(&errAfter{text: shortHeader + validRow, err: boom},
		manifest.Options{Dir: dir})
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	row, err := r.Next()
	if err != nil || row.Err != nil {
		t.Fatalf("first Next = %+v, %v; want a valid row", row, err)
	}
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Errorf("second Next error = %v, want one wrapping %v", err, boom)
	}
}

// TestQuoteClosedByALaterLine: a value opened on one line and closed by a
// quote on a later line would hide the rows between; they come back.
func TestQuoteClosedByALaterLine(t *testing.T) {
	dir := fixture(t)
	row := func(path, note string) string {
		return path + "," + leadID + "," + schema + "," + entitySchema + "," + note + "\n"
	}
	text := shortHeader[:len(shortHeader)-1] + ",note\n" +
		row("kyc.pdf", "a") + row("photo.png", `"`) + row("scan.JPG", "c") +
		row("sub/deep.pdf", `"`) + row("kyc.pdf", "e")
	rows := readAll(t, open(t, text, manifest.Options{Dir: dir}))

	var got []string
	for _, r := range rows {
		status := "ok"
		if r.Err != nil {
			status = r.Err.Error()
		}
		got = append(got, fmt.Sprintf("%d %s %s", r.Line, r.Fields.FilePath, status))
	}
	want := []string{
		"2 kyc.pdf ok",
		"3  line 3: malformed CSV at lines 3 to 5: a quoted value spans lines that look " +
			"like rows of their own (an unbalanced quote?); lines 4 to 5 were read again " +
			"as rows of their own",
		"4 scan.JPG ok",
		"5 sub/deep.pdf ok",
		"6 kyc.pdf ok",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestMultiLineValues tells a value that hides rows (even short, ragged
// ones) from an address written over several lines, which is kept.
func TestMultiLineValues(t *testing.T) {
	dir := fixture(t)
	head := "file_path,id,schema_name,entity_schema_name,name,notes\n"
	row := func(path, name string) string {
		return path + "," + leadID + "," + schema + "," + entitySchema + "," + name + "\n"
	}
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"ragged rows hidden by a ditto quote",
			head + row("kyc.pdf", `"`) + row("photo.png", "b") + row("scan.JPG", `"`),
			[]string{"2 rejected", "3 photo.png", "4 scan.JPG"}},
		{"an address over two lines",
			head + row("kyc.pdf", "\"Asha Example\nFlat 4, Block B, Sector 5, Dwarka, 110075\"") +
				row("photo.png", "b"),
			[]string{"2 kyc.pdf", "4 photo.png"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, r := range readAll(t, open(t, tt.text, manifest.Options{Dir: dir})) {
				what := r.Fields.FilePath
				if r.Err != nil {
					what = "rejected"
				}
				got = append(got, fmt.Sprintf("%d %s", r.Line, what))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("rows %q, want %q", got, tt.want)
			}
		})
	}
}

// TestLoneCarriageReturns reads old Mac text, whose lines end in CR alone.
func TestLoneCarriageReturns(t *testing.T) {
	dir := fixture(t)
	text := strings.ReplaceAll(shortHeader+"kyc.pdf,"+leadID+","+schema+","+entitySchema+"\n"+
		"photo.png,"+leadID+","+schema+",mx_Other\n", "\n", "\r")
	rows := readAll(t, open(t, text, manifest.Options{Dir: dir}))
	if len(rows) != 2 || rows[0].Err != nil || rows[1].Line != 3 ||
		rows[1].Fields.EntitySchemaName != "mx_Other" {
		t.Errorf("rows %+v, want 2 valid rows on lines 2 and 3", outcomes(rows))
	}
}
